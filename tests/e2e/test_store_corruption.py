"""A damaged DuckDB store under a real `vigil serve` (issue 12, item 7).

- One flipped byte in the write-ahead log (`vigil.duckdb.wal`): DuckDB refuses to open the
  file (start-up stopped). Vigil starts anyway: the log is set aside with a timestamp, a
  loud log line and a corruption count, the transactions logged before the damage are
  replayed, and /readyz and `systemHealth` say what happened.
- One flipped byte in a data block of the main file: a read that touches it answers
  DATA_CORRUPTED with a clear message (not INTERNAL), other reads work, /readyz is not "ok".
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.store_faults import HEALTH, Sender, codes, gql, poll, readyz
from tests.support import token

pytestmark = pytest.mark.e2e

BATCHES = 12
SYSTEM_METRIC = """query { metricSeries(project: "system", name: "vigil.store.corruption_total",
  from: "2000-01-01T00:00:00Z", aggregation: MAX) { series { tags values } } }"""
# Self-monitoring records the corruption count every this many seconds; a 20x margin.
SELF_MONITOR_SECONDS = 0.25


def flip(path: Path, at: int) -> None:
    with path.open("r+b") as file:
        file.seek(at)
        byte = file.read(1)
        file.seek(at)
        file.write(bytes([byte[0] ^ 0xFF]))


def test_a_flipped_byte_in_the_log_does_not_stop_start_up(
    tmp_path: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    store = tmp_path / "vigil.duckdb"
    env = {"VIGIL_STORE_URL": f"duckdb:///{store}"}
    vigil = vigil_process(**env)
    sender = Sender(vigil, token("agent", disk="admin", system="viewer"))
    for _ in range(BATCHES):  # one transaction each, in the log until a checkpoint
        assert sender.send()
    vigil.kill()  # no checkpoint: the batches are only in the log
    wal = Path(f"{store}.wal")
    size = wal.stat().st_size
    at = _inside_a_middle_batch(wal.read_bytes())
    flip(wal, at)

    vigil.env["VIGIL_SELF_MONITOR_SECONDS"] = str(SELF_MONITOR_SECONDS)
    vigil.start()  # waits for /readyz 200: it started

    log = vigil.log.read_text()
    assert "STORE LOG CORRUPT" in log, log[-3000:]
    aside = list(tmp_path.glob("vigil.duckdb.wal.corrupt-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == size  # kept as it was found
    # What was logged before the damage is back, batch by batch; nothing half-stored.
    stored = sender.stored()
    print(f"\nlog of {size} bytes flipped at {at}: {stored // sender.size} of {BATCHES} batches")
    assert stored % sender.size == 0 and 0 < stored < sender.acked, stored

    status, body = readyz(vigil)
    assert status == 200 and body["status"] == "degraded", body
    store_health = body["components"]["store"]
    assert store_health["status"] == "degraded"
    assert "log was damaged" in store_health["detail"] and aside[0].name in store_health["detail"]
    health = gql(vigil, HEALTH, {}, sender.auth).json()["data"]["systemHealth"]
    component = next(c for c in health["components"] if c["name"] == "store")
    assert component["status"] == "degraded" and "log was damaged" in component["detail"]

    def counted() -> bool:
        series = gql(vigil, SYSTEM_METRIC, {}, sender.auth).json()["data"]["metricSeries"]
        return any(
            s["tags"].get("kind") == "wal" and s["values"] == [1.0] for s in series["series"]
        )

    poll(counted, 20 * SELF_MONITOR_SECONDS + 5, "vigil.store.corruption_total{kind=wal} = 1")
    assert sender.send()  # and the store takes writes

    vigil.stop()
    vigil.start()  # the set-aside log is reported until the operator deletes it
    detail = readyz(vigil)[1]["components"]["store"]["detail"]
    assert "set aside at an earlier start" in detail and aside[0].name in detail
    aside[0].unlink()
    assert readyz(vigil)[1]["status"] == "ok"


def _inside_a_middle_batch(log: bytes) -> int:
    """A byte of a point value the middle batch logged (every batch sends the values 0.0,
    1.0, ...; DuckDB logs them as 8-byte doubles): damage DuckDB's checksum catches. A flip
    in an entry's header can pass unnoticed (decision 0023), which this test is not about."""
    value = struct.pack("<d", 123.0)
    found = [i for i in range(len(log)) if log.startswith(value, i)]
    assert len(found) >= BATCHES, f"the value appears {len(found)} times in the log"
    return found[len(found) // 2] + 7


def _a_block_of(store: Path, column: str) -> int:
    """The byte offset in the file of a block holding `column` of the points table."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
        rows = con.execute(
            "SELECT block_id FROM pragma_storage_info('points_hot') "
            "WHERE column_name = ? AND persistent AND block_id >= 0 ORDER BY block_id",
            [column],
        ).fetchall()
    finally:
        con.close()
    assert block_size is not None and rows, "the points were not checkpointed into blocks"
    # DuckDB's file: a 4 KiB main header, two 4 KiB database headers, then the blocks.
    return 3 * 4096 + int(rows[0][0]) * int(block_size[0])


def test_a_corrupt_block_answers_a_clear_error_and_readyz_says_so(
    tmp_path: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    store = tmp_path / "vigil.duckdb"
    vigil = vigil_process(VIGIL_STORE_URL=f"duckdb:///{store}")
    damaged = Sender(vigil, token("agent", disk="admin", intact="admin"), size=5_000)
    intact = Sender(vigil, damaged.auth, project="intact", size=10)
    for _ in range(10):
        assert damaged.send()
    vigil.stop()  # a clean stop checkpoints: the points are in blocks of the main file
    block = _a_block_of(store, "value")
    flip(store, block + 64)
    vigil.start()
    assert intact.send()  # a write still works, and so does a read that skips the block

    response = gql(vigil, COUNT_VALUES, {"p": "disk"}, damaged.auth)
    assert codes(response) == ["DATA_CORRUPTED"], response.text
    error = response.json()["errors"][0]
    assert "damaged part of the store" in error["message"] and "/readyz" in error["message"]
    assert intact.stored() == intact.acked

    status, body = readyz(vigil)
    assert status == 200 and body["status"] == "degraded", body
    assert body["components"]["store"]["status"] == "degraded"
    assert (
        f"damaged blocks in the store file at bytes {block}"
        in (body["components"]["store"]["detail"])
    )
    assert "Internal error" not in vigil.log.read_text()
    assert "STORE CORRUPT" in vigil.log.read_text()
    assert httpx.get(f"{vigil.url}/healthz").status_code == 200  # a restart does not help


COUNT_VALUES = """query($p: String!) { metricSeries(project: $p, name: "cpu",
  from: "2000-01-01T00:00:00Z", aggregation: SUM) { series { values } } }"""
