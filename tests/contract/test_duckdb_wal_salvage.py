"""DuckDB only: a damaged write-ahead log whose error names no position (a flipped byte in
the log's first entries: "Invalid WAL entry type", "Failed to decode LEB128 integer"; past
them DuckDB's checksums name the entry). The store still opens: the log is set aside as it
was found and the longest prefix DuckDB replays, found by bisection with read-only opens,
is put back; before the log's first transaction there is nothing to replay, and no half
transaction is replayed. The damage DuckDB locates is driven through a real `vigil serve` in
tests/e2e/test_store_corruption.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from infra.stores.duckdb import DuckDBDatabase
from infra.stores.duckdb.wal import is_wal_failure

ROWS = 10  # transactions in the log, 100 rows each

WRITE = """
import duckdb, os, sys
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE t (id BIGINT)")
con.execute("CHECKPOINT")
for i in range({rows}):
    con.execute("INSERT INTO t SELECT range FROM range(?, ?)", [i * 100, i * 100 + 100])
os._exit(0)  # no checkpoint: the rows are in the log only
"""


def _log_of_ten_transactions(folder: Path) -> tuple[Path, bytes, bytes]:
    path = folder / "vigil.duckdb"
    subprocess.run([sys.executable, "-c", WRITE.format(rows=ROWS), str(path)], check=True)
    return path, path.read_bytes(), Path(f"{path}.wal").read_bytes()


def _unlocated_damage(path: Path, store: bytes, log: bytes) -> int:
    """A position whose flipped byte makes DuckDB refuse the log without naming where."""
    wal = Path(f"{path}.wal")
    for at in range(len(log)):
        path.write_bytes(store)
        wal.write_bytes(log[:at] + bytes([log[at] ^ 0xFF]) + log[at + 1 :])
        try:
            duckdb.connect(str(path), read_only=True).close()
        except duckdb.Error as exc:
            if is_wal_failure(exc) and "byte position" not in str(exc):
                return at
    raise AssertionError("no flipped byte gave an error without a position")


def _set_aside(folder: Path) -> bytes:
    (aside,) = folder.glob("vigil.duckdb.wal.corrupt-*")
    return aside.read_bytes()


async def test_damage_duckdb_does_not_locate_is_found_by_bisection(tmp_path: Path) -> None:
    path, store, log = _log_of_ten_transactions(tmp_path)
    at = _unlocated_damage(path, store, log)  # leaves that damage in place
    database = await DuckDBDatabase.open(str(path))
    try:
        salvage = database.faults.wal_salvage
        assert "set aside as vigil.duckdb.wal.corrupt-" in salvage
        good = int(salvage.split("replayed its first ")[1].split(" of")[0])
        assert good <= at + 1  # nothing past the damage
        rows = await database.metrics._run.read(
            lambda cur: cur.execute("SELECT count(*) FROM t").fetchall()[0][0]
        )
        assert rows == 0  # the damage precedes every transaction: none is replayed
        assert database.faults.corruption == {"wal": 1}
    finally:
        await database.close()
    assert _set_aside(tmp_path)[at] == log[at] ^ 0xFF  # kept as found
