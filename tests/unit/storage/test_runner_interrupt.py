"""A cancelled DuckDB read stops, wherever its Python code is when the cancel lands.

DuckDB forgets an interrupt that arrives while no statement runs: the next statement
starts afresh. These tests hold a read between two statements (on an event) when it is
cancelled, then let it go on: the statement it starts must be interrupted too, and a
transaction it leaves open must not outlive it on the reader thread's cursor.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import duckdb
import pytest

from infra.stores.duckdb.runner import Cursor, Runner

# Seconds of work on this machine when nothing stops it (minutes on a fast one would
# still only make the failing case slow, never the passing one).
HEAVY = "SELECT sum(hash(i)) FROM range(400_000_000) t(i)"


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[Runner]:
    con = duckdb.connect(str(tmp_path / "interrupt.duckdb"))
    con.execute("CREATE TABLE t (x INTEGER)")
    one_reader = Runner(con, readers=1)  # the next read runs on the same thread and cursor
    yield one_reader
    await one_reader.close()


class Held:
    """A read that waits between its first and second statement until released."""

    def __init__(self, *, open_transaction: bool = False) -> None:
        self.open_transaction = open_transaction
        self.between = threading.Event()
        self.release = threading.Event()
        self.outcome = ""

    def __call__(self, cur: Cursor) -> None:
        if self.open_transaction:
            cur.begin()
            cur.execute("INSERT INTO t VALUES (1)")
        cur.execute("SELECT 1").fetchall()
        self.between.set()
        self.release.wait(10)
        try:
            cur.execute(HEAVY).fetchall()
        except duckdb.InterruptException:
            self.outcome = "interrupted"
            raise  # no rollback: as if an interrupt had cut it short
        self.outcome = "ran to its end"


async def _cancel_between_statements(runner: Runner, held: Held) -> None:
    task = asyncio.ensure_future(runner.read(held))
    assert await asyncio.to_thread(held.between.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    held.release.set()  # the cancelled read starts its heavy statement now


async def test_a_read_cancelled_between_statements_is_interrupted_in_the_next(
    runner: Runner,
) -> None:
    held = Held()
    await _cancel_between_statements(runner, held)
    # readers=1: this waits for the cancelled read to leave the thread
    assert await runner.read(lambda cur: cur.execute("SELECT 42").fetchall()) == [(42,)]
    assert held.outcome == "interrupted"


async def test_an_interrupted_read_leaves_no_transaction_open(runner: Runner) -> None:
    held = Held(open_transaction=True)
    await _cancel_between_statements(runner, held)

    def fresh_transaction(cur: Cursor) -> int:
        cur.begin()  # "cannot start a transaction within a transaction" if one is left
        (count,) = cur.execute("SELECT count(*) FROM t").fetchone() or (0,)
        cur.rollback()
        return int(count)

    assert await runner.read(fresh_transaction) == 0  # its insert was rolled back
    assert held.outcome == "interrupted"
