"""Points missed over a bus outage still reach the alert that needs them: two real apps
sharing one store, on a private redis-server the test kills and starts again. A point
ingested by the instance that does not evaluate the alert while Redis is down never
crosses the bus; once the owner is subscribed again it refills its windows from the store,
so the point counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.alerting.leases import SHARDS
from infra.stores.duckdb import DuckDBDatabase
from tests.api.test_alerting_cluster import CREATE, CREATE_POINTS, cluster_of, named, until
from tests.bus.conftest import RedisServer
from tests.support import RunningVigil, make_settings, serve, token

LEASE_SECONDS = 1.5


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        server.kill()


async def test_a_point_missed_over_a_bus_outage_is_refilled_from_the_store(
    redis: RedisServer, tmp_path: Path
) -> None:
    project = f"gap-{uuid.uuid4().hex[:8]}"
    auth = token(**{project: "admin"})
    settings = make_settings(
        tmp_path,
        bus_url=redis.url,
        alert_lease_seconds=LEASE_SECONDS,
        alert_tick_seconds=3600,  # points drive every evaluation here
    )
    database = await DuckDBDatabase.open(str(tmp_path / "shared.duckdb"))

    async def send(via: RunningVigil, value: float) -> None:
        points = [{"name": "cpu", "value": value, "tags": {"host": "web"}}]
        await via.ok(CREATE_POINTS, {"p": project, "points": points}, auth=auth)

    try:
        async with (
            serve(named(settings, "a"), database=database) as a,
            serve(named(settings, "b"), database=database) as b,
        ):
            await until(
                lambda: (
                    sum(len(cluster_of(v).leases.held) for v in (a, b)) == SHARDS
                    and all(cluster_of(v).leases.held for v in (a, b))
                ),
                timeout=10 * LEASE_SECONDS,
                what="the two instances share the shards",
            )
            await send(a, 10.0)
            rule = {"name": "cpu", "metric": "cpu", "threshold": 90, "aggregation": "MAX",
                    "window": "5m", "groupBy": ["host"]}  # fmt: skip
            made = await a.ok(CREATE, {"p": project, "rule": rule}, auth=auth)
            alert_id = made["createAlert"]["id"]
            owner, other = (a, b) if cluster_of(a).leases.owns(alert_id) else (b, a)
            await until(lambda: alert_id in cluster_of(owner).engine, 5, "the owner runs it")

            def state() -> list[str]:
                return [s.state.value for s in cluster_of(owner).instances(alert_id) or []]

            redis.kill()
            await send(other, 95.0)  # stored and acknowledged; it cannot cross the bus
            await asyncio.sleep(0.2)
            assert "firing" not in state()  # the owner has not seen it
            await redis.start()

            # Points the owner ingests itself keep it evaluating; the maximum over the window
            # is 95 only once the missed point is back in the window, refilled from the store.
            async with asyncio.timeout(30):
                while state() != ["firing"]:
                    await send(owner, 10.0)
                    await asyncio.sleep(0.2)
    finally:
        await database.close()
