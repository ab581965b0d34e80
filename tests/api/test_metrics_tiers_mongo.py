"""Chart queries through the real ASGI app on the MongoDB store (the emulator; a real
server with VIGIL_TEST_MONGO_URL): the rollup runner fills the tiers, `resolution` follows
the step, and the values are raw points' (the DuckDB twin: test_metrics_tiers.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.storage.tiers import HOUR, MINUTE
from tests.api.test_metrics_tiers import CREATE, SERIES, STEP_US, expected, iso
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real
from tests.support import make_settings, serve, token, until


@pytest.fixture(params=[open_mongo_emulated, open_mongo_real], ids=["mongo-emulated", "mongo-real"])
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    db = await request.param(tmp_path)
    try:
        yield db
    finally:
        await db.close()


async def test_mongo_tiers_serve_charts_with_raws_values(tmp_path: Path, database: Any) -> None:
    settings = make_settings(tmp_path, rollup_seconds=0.2, rollup_lag_seconds=60)
    async with serve(settings, database=database) as vigil:
        now_ms = int(time.time() * 1000)
        start_ms = now_ms - 3 * 3_600_000
        points = [
            {
                "name": "cpu",
                "value": float((i * 7 + h) % 50),
                "tags": {"host": f"h{h}"},
                "timestamp": start_ms + i * 30_000 + h * 333,
            }
            for h in range(3)
            for i in range(3 * 120)
        ]
        admin = token(demo="admin")
        for i in range(0, len(points), 500):
            await vigil.ok(CREATE, {"p": "demo", "points": points[i : i + 500]}, auth=admin)
        rollups = vigil.app.state.vigil.stores.rollups
        wanted = (now_ms * 1000 - 60_000_000) // MINUTE.resolution_us * MINUTE.resolution_us

        async def caught_up() -> bool:
            marks = await rollups.watermarks()
            dirty = await rollups.dirty_count(MINUTE) + await rollups.dirty_count(HOUR)
            return marks.get("1m", 0) >= wanted and dirty == 0

        await until(caught_up, 30, "the rollup runner caught up on MongoDB")
        # A late point after the rollup: its bucket is served from raw points until the
        # runner recomputes it, and the answer includes it either way.
        late = {
            "name": "cpu",
            "value": 99.0,
            "tags": {"host": "h0"},
            "timestamp": start_ms + 61_001,
        }
        await vigil.ok(CREATE, {"p": "demo", "points": [late]}, auth=admin)
        points.append(late)

        start, end = start_ms * 1000 + 7_000_123, now_ms * 1000  # unaligned ends: stitched
        served = {}
        for step, agg in [("30s", "AVG"), ("2m", "AVG"), ("10m", "MAX"), ("2h", "LAST")]:
            variables = {"from": iso(start), "to": iso(end), "step": step, "agg": agg}
            answer = (await vigil.ok(SERIES, variables, auth=admin))["metricSeries"]
            served[step] = answer["resolution"]
            got = {line["tags"]["host"]: line["values"] for line in answer["series"]}
            assert got == expected(points, start, end, STEP_US[step], agg), (step, agg)
        assert served == {"30s": "raw", "2m": "1m", "10m": "1m", "2h": "1h"}
