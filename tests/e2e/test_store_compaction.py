"""A `vigil serve` killed (SIGKILL) in the middle of a DuckDB compaction loses nothing and
doubles nothing: the partition moves in one transaction (docs/decisions/0026)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx

from infra.stores.duckdb.migrations import migrate
from tests.contract.data import sid_of
from tests.e2e.conftest import VigilProcess
from tests.e2e.store_faults import Sender, gql, poll
from tests.support import token

HOUR_US = 3_600_000_000
BIG = 3_000_000  # points of one closed partition: its compaction takes a second or more
STARTED = "store: compacting the partitions from"
FINISHED = "store: compacted"
COUNT_BIG = """query($p: String!) { metricSeries(project: $p, name: "big",
  from: "2000-01-01T00:00:00Z", aggregation: COUNT) { series { values } } }"""


def _prefill(store: Path, project: str) -> int:
    """BIG points of series `big`, 1 ms apart, in the hot table of a partition three
    hours ago (closed), as a file written before `vigil serve` opens it; its start."""
    start = (time.time_ns() // 1000 // HOUR_US - 3) * HOUR_US
    with duckdb.connect(str(store)) as con:
        migrate(con)
        con.execute(
            "INSERT INTO series VALUES ($p, $sid, 'big', MAP {}, 'gauge', '', '', now())",
            {"p": project, "sid": sid_of(project, "big", {})},
        )
        con.execute(
            "INSERT INTO points_hot SELECT $sid, make_timestamp($first + i * 1000), i % 1000"
            " FROM range($n) t(i)",
            {"sid": sid_of(project, "big", {}), "first": start, "n": BIG},
        )
    return start


def _partition(store: Path, start: int) -> tuple[int, int]:
    """The points of the big partition in the hot and in the compacted table."""
    with duckdb.connect(str(store), read_only=True) as con:
        ((hot,),) = con.execute(
            "SELECT count(*) FROM points_hot WHERE ts >= make_timestamp($s)"
            " AND ts < make_timestamp($e)",
            {"s": start, "e": start + HOUR_US},
        ).fetchall()
        ((compacted,),) = con.execute(
            "SELECT count(*) FROM points_compacted WHERE ts >= make_timestamp($s)"
            " AND ts < make_timestamp($e)",
            {"s": start, "e": start + HOUR_US},
        ).fetchall()
    return int(hot), int(compacted)


def test_a_compaction_killed_midway_loses_and_doubles_nothing(
    tmp_path: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    store = tmp_path / "vigil.duckdb"
    start = _prefill(store, "crash")
    vigil = vigil_process(VIGIL_STORE_URL=f"duckdb:///{store}", VIGIL_STORE_COMPACTION_SECONDS="3")
    sender = Sender(vigil, token("agent", crash="admin"), project="crash", size=500)
    # Acknowledged batches until the first compaction has started (3 s after the store
    # opens, after start-up), the last ones while it runs; a thread watching the log kills
    # the server as soon as the start shows, well before the seconds the big partition
    # takes. (Killing between two sends was too late at times: a send that waited behind
    # the rollup runner's first pass over the 3M points let a quiet machine finish.)
    killed = threading.Event()

    def kill_on_start() -> None:
        poll(lambda: STARTED in vigil.log.read_text(), 30, "a compaction starts", every=0.005)
        vigil.kill()
        killed.set()

    watcher = threading.Thread(target=kill_on_start, daemon=True)
    watcher.start()

    def send_until_killed() -> bool:
        try:
            sender.send()
        except httpx.HTTPError:  # the kill cut this request: it was not acknowledged
            if not killed.wait(5):
                raise
        return killed.is_set()

    poll(send_until_killed, 30, "a compaction starts")
    watcher.join(5)
    assert FINISHED not in vigil.log.read_text(), "the compaction ended before the kill"
    assert _partition(store, start) == (BIG, 0)  # rolled back: all still hot

    vigil.env["VIGIL_STORE_COMPACTION_SECONDS"] = "1"
    vigil.start()
    poll(lambda: vigil.log.read_text().count(FINISHED) >= 1, 60, "the compaction finishes")
    response = gql(vigil, COUNT_BIG, {"p": "crash"}, sender.auth)
    assert response.json()["data"]["metricSeries"]["series"][0]["values"] == [float(BIG)]
    # Every acknowledged point, once; the batch the kill cut may have committed before it.
    assert sender.acked <= sender.stored() <= sender.acked + sender.size
    print(f"\nkilled mid-compaction of {BIG} points; {sender.acked} points acknowledged")
    vigil.stop()
    assert _partition(store, start) == (0, BIG)
