"""Checks only a real MongoDB server can answer: version and FCV, TTL expiry of a retried
range, `timeoutMS` with a write the server applies late, an election during ingest.

Run with `make test-mongo VIGIL_TEST_MONGO_URL=mongodb://...` against a replica set
(one node is enough) of MongoDB 7.0.16+ or 8.0.4+, as a user that may run
`configureFailPoint`, `replSetStepDown`, `serverStatus` and `setParameter` (a throwaway
server: these change its state for a few seconds). Every test works in a database of
its own, dropped at the end. `VIGIL_TEST_MONGO_CHANGE_FCV=1` also lowers the feature
compatibility version for a moment to check the refusal, and restores it.
No MongoDB server can run where Vigil is built: these have not run there.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError

from domain.errors import Unavailable
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from infra.stores.mongo import MongoDatabase, MongoOptions
from infra.stores.mongo.server import version_problem
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch
from tests.contract.faults import MongoFaults
from tests.contract.mongo_emulator import URL_ENV

URL = os.environ.get(URL_ENV, "")
pytestmark = pytest.mark.skipif(
    not URL, reason=f"{URL_ENV} is not set: these checks need a real MongoDB replica set"
)

Client = AsyncMongoClient[dict[str, Any]]


@pytest.fixture
async def admin() -> AsyncIterator[Client]:
    client: Client = AsyncMongoClient(URL, tz_aware=False, timeoutMS=60_000)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def database(admin: Client) -> AsyncIterator[str]:
    name = f"vigil_test_{uuid.uuid4().hex[:20]}"
    try:
        yield name
    finally:
        await admin.drop_database(name)


async def open_store(name: str, **options: Any) -> MongoDatabase:
    return await MongoDatabase.open(URL, database=name, options=MongoOptions(**options))


async def count(db: MongoDatabase, start: int, end: int) -> int:
    chart = await db.metrics.aggregate(
        GetMetricSeriesQuery("alpha", "ttl", start, end, Aggregation.COUNT, group_by=())
    )
    return int(chart.series[0].values[0] or 0) if chart.series else 0


async def test_the_server_passes_the_checks_and_the_suite_has_its_own_database(
    admin: Client, database: str
) -> None:
    info = await admin["admin"].command("buildInfo")
    assert version_problem(info) is None, f"this server ({info['version']}) is too old"
    # The URL may name a database (production's): the one given wins, the URL's is untouched.
    named = URL.split("?")[0].rstrip("/").rsplit("/", 1)[-1] if URL.count("/") > 2 else ""
    db = await MongoDatabase.open(URL, database=database)
    try:
        assert db.name == database and db.features.fcv  # checked at open (server.py)
        await db.metrics.append(point_batch("alpha", [Point("x", {}, NOW_US, 1.0)]))
    finally:
        await db.close()
    names = await admin.list_database_names()
    assert database in names
    if named:
        assert named == database or "points" not in await admin[named].list_collection_names()


async def test_a_feature_compatibility_version_below_7_0_is_refused(
    admin: Client, database: str
) -> None:
    if os.environ.get("VIGIL_TEST_MONGO_CHANGE_FCV") != "1":
        pytest.skip("VIGIL_TEST_MONGO_CHANGE_FCV=1 is not set (it changes the server's FCV)")
    reply = await admin["admin"].command({"getParameter": 1, "featureCompatibilityVersion": 1})
    current = reply["featureCompatibilityVersion"]["version"]
    lower = {"8.0": "7.0", "7.0": "6.0"}.get(current)
    if lower is None or lower >= "7.0":
        pytest.skip(f"FCV {current}: the one below it is still supported")
    await admin["admin"].command({"setFeatureCompatibilityVersion": lower, "confirm": True})
    try:
        with pytest.raises(Unavailable, match=f"feature compatibility version is {lower}"):
            await open_store(database)
    finally:
        await admin["admin"].command({"setFeatureCompatibilityVersion": current, "confirm": True})


async def test_a_write_that_times_out_and_lands_later_is_never_stored_twice(
    admin: Client, database: str
) -> None:
    """The server holds the insert longer than timeoutMS, then applies it (failCommand
    with blockConnection): the caller sees a timeout; nothing of that batch shows, and
    the retry stores it once."""
    db = await open_store(database, timeout_ms=1_000, key_stale_seconds=5)
    points = [
        Point("ttl", {"h": h}, NOW_US + s * SECOND, float(s)) for s in range(10) for h in "ab"
    ]
    batch = point_batch("alpha", points)
    fail_point = {
        "configureFailPoint": "failCommand",
        "mode": {"times": 1},
        "data": {
            "failCommands": ["insert"],
            "blockConnection": True,
            "blockTimeMS": 3_000,
            "appName": "vigil",
        },
    }
    try:
        await db.metrics.append(point_batch("alpha", [Point("ttl", {"h": "a"}, NOW_US - 1, 0.0)]))
        try:
            await admin["admin"].command(fail_point)
        except OperationFailure as exc:
            pytest.skip(f"the server has no failCommand (enableTestCommands=1): {exc.code}")
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await db.metrics.append(batch, idempotency_key="late")
        # Bounded by timeoutMS (1 s), not by the 3 s the server holds the insert.
        assert time.monotonic() - started < 3.0
        await asyncio.sleep(4)  # the held insert is applied (or dropped) meanwhile
        assert await count(db, NOW_US - 1, NOW_US + MINUTE) == 1
        retry = await db.metrics.append(batch, idempotency_key="late")
        assert (retry.accepted, retry.replayed) == (len(batch), False)
        assert await count(db, NOW_US - 1, NOW_US + MINUTE) == 1 + len(batch)
    finally:
        with suppress(PyMongoError):
            await admin["admin"].command({"configureFailPoint": "failCommand", "mode": "off"})
        await db.close()


async def test_a_retried_range_expires_on_time_not_early(admin: Client, database: str) -> None:
    """SERVER-99527: deletes by a non-meta field, then inserts of an adjacent range, made
    TTL expire points early. Vigil no longer deletes: a batch failing half-way is set
    aside and retried. Points stay while within the retention, then all expire."""
    with suppress(OperationFailure):  # a TTL pass every second instead of every minute
        await admin["admin"].command({"setParameter": 1, "ttlMonitorSleepSecs": 1})
    retention = 90
    db = await open_store(database, retention_seconds=retention)
    now_us = time.time_ns() // 1000
    first = [Point("ttl", {}, now_us - 60 * SECOND + s * SECOND, 1.0) for s in range(30)]
    second = [Point("ttl", {}, now_us - 30 * SECOND + s * SECOND, 2.0) for s in range(30)]
    try:
        await db.metrics.append(point_batch("alpha", first))
        faults = MongoFaults(db, "mongo-real")
        faults.fail_part_way(stored=15)
        with pytest.raises(Unavailable):
            await db.metrics.append(point_batch("alpha", second), idempotency_key="adjacent")
        faults.heal()
        await db.metrics.append(point_batch("alpha", second), idempotency_key="adjacent")
        window = (now_us - 61 * SECOND, now_us + SECOND)
        deadline = now_us / 1e6 + retention - 65  # the oldest point's expiry, less a margin
        while time.time() < deadline:  # many TTL passes: nothing expires early
            assert await count(db, *window) == 60
            await asyncio.sleep(2)
        for _ in range(120):  # then the whole range goes, within the TTL monitor's passes
            if await count(db, *window) == 0:
                break
            await asyncio.sleep(2)
        assert await count(db, *window) == 0
    finally:
        with suppress(OperationFailure):
            await admin["admin"].command({"setParameter": 1, "ttlMonitorSleepSecs": 60})
        await db.close()


async def test_ingest_goes_on_through_an_election(admin: Client, database: str) -> None:
    """The primary steps down while batches are sent: each waits for the new primary
    (timeoutMS 30 s against an election of ~10 s) instead of failing, and each is
    stored once (retryable writes)."""
    db = await open_store(database)
    batches = [
        point_batch(
            "alpha", [Point("ttl", {"h": str(i)}, NOW_US + s, float(s)) for s in range(100)]
        )
        for i in range(40)
    ]

    async def send() -> list[Any]:
        results = []
        for i, batch in enumerate(batches):
            results.append(await db.metrics.append(batch, idempotency_key=f"e-{i}"))
            await asyncio.sleep(0.25)
        return results

    async def step_down() -> None:
        await asyncio.sleep(2)
        with suppress(PyMongoError):  # the step-down closes this very connection
            await admin["admin"].command(
                {"replSetStepDown": 10, "secondaryCatchUpPeriodSecs": 5, "force": True}
            )

    try:
        results, _ = await asyncio.gather(send(), step_down())
        assert [r.replayed for r in results] == [False] * len(batches)
        assert await count(db, NOW_US, NOW_US + MINUTE) == 100 * len(batches)
    finally:
        await db.close()
