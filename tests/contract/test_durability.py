"""Durability: an acknowledged point survives a restart, and a killed process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from domain.metrics.model import Aggregation, decode_point_id
from domain.metrics.queries import GetMetricSeriesQuery
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from tests.contract.conftest import STORE_FACTORIES, StoreFactory
from tests.contract.data import MINUTE, NOW_US, Point, point_batch

ROOT = Path(__file__).resolve().parents[2]


async def test_everything_acknowledged_is_there_after_a_restart(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    batches = [
        point_batch("alpha", [Point("cpu", {"host": f"h{i}"}, NOW_US + j, j) for j in range(50)])
        for i in range(4)
    ]
    db = await store_factory(tmp_path)
    for i, batch in enumerate(batches):
        await db.metrics.append(batch, idempotency_key=f"batch-{i}")
    await db.audit.record(AuditEntry("ann", "createAlert", "alpha", "ok", NOW_US))
    await db.close()

    db = await store_factory(tmp_path)
    try:
        for batch in batches:
            for point_id, value in zip(batch.point_ids(), batch.values, strict=True):
                decoded = decode_point_id(point_id)
                assert decoded is not None
                metric = await db.metrics.get_point("alpha", *decoded)
                assert metric is not None and metric.value == value
        assert await db.metrics.metric_names("alpha") == ["cpu"]
        assert await db.metrics.tag_values("alpha", "host") == ["h0", "h1", "h2", "h3"]
        replay = await db.metrics.append(batches[0], idempotency_key="batch-0")
        assert (replay.accepted, replay.replayed) == (50, True)
        await db.audit.record(AuditEntry("bob", "createAlert", "alpha", "ok", NOW_US + 1))
        listed = await db.audit.list_entries(GetAuditLogQuery("alpha"))
        assert [e.actor for e in listed] == ["bob", "ann"]
        assert listed[0].seq > listed[1].seq
    finally:
        await db.close()


BATCH, SPAN = 500, MINUTE  # batch i holds BATCH points spread over [i * SPAN, (i + 1) * SPAN)

WRITER = """
import asyncio, sys
from pathlib import Path
from tests.contract.conftest import STORE_FACTORIES
from tests.contract.data import Point, point_batch

async def main(store, path, base, size, span):
    db = await dict(STORE_FACTORIES)[store](Path(path))
    for i in range(10_000):
        points = [Point("crash", {}, base + i * span + j * (span // size), float(j))
                  for j in range(size)]
        await db.metrics.append(point_batch("alpha", points))
        print(i, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])))
"""


async def test_acknowledged_batches_survive_a_killed_process(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = next(name for name, factory in STORE_FACTORIES if factory is store_factory)
    base = NOW_US - 30 * MINUTE
    args = [store, str(tmp_path), str(base), str(BATCH), str(SPAN)]
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None
    acknowledged = -1
    try:
        async with asyncio.timeout(60):
            while acknowledged < 20:
                line = await writer.stdout.readline()
                assert line, "the writer stopped before acknowledging 20 batches"
                acknowledged = int(line)
    finally:
        writer.kill()  # SIGKILL: no close, no checkpoint, maybe in the middle of a batch
        await writer.wait()

    db = await store_factory(tmp_path)
    try:
        counts = await db.metrics.aggregate(
            GetMetricSeriesQuery(
                "alpha", "crash", base, base + 10_000 * SPAN, Aggregation.COUNT, SPAN, group_by=()
            )
        )
    finally:
        await db.close()
    per_batch = counts.series[0].values
    assert per_batch[: acknowledged + 1] == [float(BATCH)] * (acknowledged + 1)
    assert set(per_batch[acknowledged + 1 :]) <= {None, float(BATCH)}  # all or nothing
