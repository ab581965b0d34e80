"""Cost written into the project as series by the leased writer: the last complete hour's
total, owners and idle as `vigil.cost.*` points that chart like any metric, written once
however many instances (or ticks) write them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.cost.runtime import LEASE_PREFIX, CostWriter, WriterSettings
from tests.api.cost_support import (
    ADMIN,
    CONFIGURE,
    MAPPING,
    POINTS,
    PRICES,
    VIEWER,
    app_duckdb,
    example_points,
    iso,
)
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, until

HOUR_MS = 3_600_000
SERIES = """query($n: String!, $from: DateTime, $to: DateTime) {
  metricSeries(project: "demo", name: $n, from: $from, to: $to, step: "1h",
               aggregation: SUM, groupBy: ["owner"]) {
    timestamps series { tags values } } }"""
LIST = """query($n: String!) { metrics(project: "demo", name: $n, first: 100) {
  items { value tags timestamp } } }"""


async def cost_series(vigil: RunningVigil, name: str, start: int) -> dict[str, Any]:
    variables = {"n": name, "from": iso(start), "to": iso(start + HOUR_MS)}
    found: dict[str, Any] = (await vigil.ok(SERIES, variables, auth=VIEWER))["metricSeries"]
    return found


@pytest.fixture(params=[app_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    db = await request.param(tmp_path)
    try:
        yield db
    finally:
        if db is not None:
            await db.close()


async def test_the_last_complete_hour_is_written_once_as_cost_series(
    tmp_path: Path, database: Any
) -> None:
    settings = make_settings(tmp_path, cost_step_seconds=3600, cost_lag_seconds=0)
    async with serve(settings, database=database) as vigil:
        running = vigil.app.state.vigil
        writer: CostWriter = running.runtimes.cost
        left_ms = HOUR_MS - int(time.time() * 1000) % HOUR_MS
        if left_ms < 30_000:  # the hour would turn during the test: wait until it has
            await asyncio.sleep(left_ms / 1000 + 0.5)
        now_ms = int(time.time() * 1000)
        start = now_ms // HOUR_MS * HOUR_MS - HOUR_MS  # the last complete hour
        assert writer.due_bucket(now_ms * 1000) == start * 1000
        points = example_points(start, hours=1)
        await vigil.ok(POINTS, {"p": "demo", "points": points}, auth=ADMIN)
        variables = {"p": "demo", "prices": PRICES, "mapping": MAPPING}
        await vigil.ok(CONFIGURE, variables, auth=ADMIN)

        bus = running.bus
        # One hour of the example: api 0.748 / 8 = 0.0935, batch 0.055, web 0.039,
        # idle 0.0945; total 0.282 -> 0.28, apportioned 0.09 + 0.06 + 0.04 + 0.09.
        assert await writer.write_due(bus.handle, bus.ask) == ["demo"]
        total = await vigil.ok(LIST, {"n": "vigil.cost.total"}, auth=VIEWER)
        assert total["metrics"]["items"] == [
            {"value": 0.28, "tags": {"currency": "USD"}, "timestamp": iso(start)}
        ]
        owners = await cost_series(vigil, "vigil.cost.by_owner", start)
        assert owners["timestamps"] == [start]
        by_owner = {s["tags"]["owner"]: s["values"][0] for s in owners["series"]}
        assert by_owner == {"api": 0.09, "batch": 0.06, "web": 0.04}
        idle = await cost_series(vigil, "vigil.cost.idle", start)
        assert idle["series"][0]["values"] == [0.09]

        # The same tick again; another instance while the lease is held; then after it
        # lapsed (its holder gone): the hour is stored once.
        assert await writer.write_due(bus.handle, bus.ask) == []
        other = CostWriter(
            running.stores.pricing,
            running.stores.leases,
            running.clock,
            WriterSettings(owner="other", step_us=3_600_000_000, lag_us=0),
        )
        assert await other.write_due(bus.handle, bus.ask) == []
        await running.stores.leases.release_lease(LEASE_PREFIX + "demo", settings.instance_name)
        assert await other.write_due(bus.handle, bus.ask) == ["demo"]
        again = await vigil.ok(LIST, {"n": "vigil.cost.total"}, auth=VIEWER)
        assert len(again["metrics"]["items"]) == 1


async def test_the_running_writer_writes_each_bucket_as_it_closes(tmp_path: Path) -> None:
    """The writer started with the app, with one-second buckets: priced, the project gets
    `vigil.cost.total` points one bucket after another without anyone calling it."""
    settings = make_settings(tmp_path, cost_step_seconds=1, cost_lag_seconds=0)
    async with serve(settings) as vigil:
        variables = {"p": "demo", "prices": PRICES, "mapping": MAPPING}
        await vigil.ok(CONFIGURE, variables, auth=ADMIN)

        async def written() -> int:
            found = await vigil.ok(LIST, {"n": "vigil.cost.total"}, auth=VIEWER)
            return len(found["metrics"]["items"])

        await until(lambda: _at_least(written, 2), 20, "two buckets of vigil.cost.total")
        found = await vigil.ok(LIST, {"n": "vigil.cost.total"}, auth=VIEWER)
        stamps = sorted(item["timestamp"] for item in found["metrics"]["items"])
        assert len(set(stamps)) == len(stamps)  # each bucket once
        assert {item["value"] for item in found["metrics"]["items"]} == {0.0}  # no usage


async def _at_least(count: Any, n: int) -> bool:
    return bool(await count() >= n)
