"""What a user sees when a batch fails half-way, or its key is held by another process, on
the MongoDB store (the emulator; a real server with VIGIL_TEST_MONGO_URL): the request is
refused with a retryable error, nothing of the batch is listed, charted or streamed twice,
the points acknowledged before are all there, and the retry with the same key stores the
batch once and announces it once.

The failure is injected after part of the batch is written (tests/contract/faults.py: a
wrapper around the store's points collection), so the store's recovery code runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.metrics.events import MetricCollectedEvent
from tests.contract.faults import MongoFaults, another_instance
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ADMIN = token(demo="admin")
CREATE = """mutation($points: PointBatch!, $key: String) {
  createMetrics(project: "demo", points: $points, idempotencyKey: $key) { accepted replayed } }"""
LIST = """query($name: String!) {
  metrics(project: "demo", name: $name, first: 1000) { items { value tags } } }"""
SUB = """subscription { metricCollected(project: "demo") { name value } }"""


@pytest.fixture(params=[open_mongo_emulated, open_mongo_real], ids=["mongo-emulated", "mongo-real"])
async def rig(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    database = await request.param(tmp_path)
    try:
        kind = "mongo-emulated" if request.param is open_mongo_emulated else "mongo-real"
        faults = MongoFaults(database, kind)
        async with serve(make_settings(tmp_path), database=database) as vigil:
            yield vigil, faults
    finally:
        await database.close()


def batch(name: str, count: int, base: float, start_ms: int) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": base + i, "tags": {"host": f"h{i % 3}"}, "timestamp": start_ms + i}
        for i in range(count)
    ]


async def listed(vigil: RunningVigil, name: str) -> list[float]:
    items = (await vigil.ok(LIST, {"name": name}, auth=ADMIN))["metrics"]["items"]
    return sorted(item["value"] for item in items)


async def streamed_until_marker(client: Any, op: str) -> list[dict[str, Any]]:
    """The points streamed up to and including the marker point (events come in order)."""
    points: list[dict[str, Any]] = []
    while not any(p["name"] == "marker" for p in points):
        message = await client.next_for(op)
        assert message["type"] == "next", message
        points += message["payload"]["data"]["metricCollected"]
    return points


@pytest.mark.parametrize("key", [None, "retry-1"])
async def test_a_batch_failing_half_way_is_refused_then_its_retry_is_stored_once(
    rig: Any, key: str | None
) -> None:
    vigil, faults = rig
    start_ms = int(time.time() * 1000) - 60_000
    before = batch("cpu", 9, 0.0, start_ms - 10_000)
    points = batch("cpu", 30, 100.0, start_ms)
    assert (await vigil.ok(CREATE, {"points": before}, auth=ADMIN))["createMetrics"] == {
        "accepted": 9,
        "replayed": False,
    }
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(SUB)
        await vigil.listening(MetricCollectedEvent.channel_for("demo"))

        faults.fail_part_way(stored=len(points) // 2)
        refused = await vigil.gql(CREATE, {"points": points, "key": key}, auth=ADMIN)
        faults.heal()

        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert await listed(vigil, "cpu") == [p["value"] for p in before]  # none of it

        retried = await vigil.ok(CREATE, {"points": points, "key": key}, auth=ADMIN)
        assert retried["createMetrics"] == {"accepted": 30, "replayed": False}
        await vigil.ok(CREATE, {"points": batch("marker", 1, 0.0, start_ms)}, auth=ADMIN)
        streamed = await streamed_until_marker(client, op)

    # Announced once, after the retry: nothing of the refused attempt, no second copy.
    assert sorted(p["value"] for p in streamed if p["name"] == "cpu") == [
        p["value"] for p in points
    ]
    stored = await listed(vigil, "cpu")
    assert stored == sorted(p["value"] for p in before + points)  # nothing lost, no duplicate
    if key is not None:
        replay = await vigil.ok(CREATE, {"points": points, "key": key}, auth=ADMIN)
        assert replay["createMetrics"] == {"accepted": 30, "replayed": True}
        assert await listed(vigil, "cpu") == stored


@pytest.mark.parametrize("factory", [open_mongo_emulated, open_mongo_real], ids=["emu", "real"])
async def test_a_key_another_process_is_storing_is_refused_then_stored_once(
    tmp_path: Path, factory: Any
) -> None:
    """Two processes on one MongoDB: while the first stores a keyed batch (stalled after
    half of it), the same batch with the same key sent to the second is refused with a
    retryable error and stores nothing twice; once the first gives up, the retry through
    the second stores it once."""
    database = await factory(tmp_path)
    other = await another_instance(factory, database, tmp_path, key_wait_seconds=0.3)
    faults = MongoFaults(database, "mongo")
    start_ms = int(time.time() * 1000) - 60_000
    points = batch("cpu", 30, 100.0, start_ms)
    try:
        async with (
            serve(make_settings(tmp_path / "one"), database=database) as one,
            serve(make_settings(tmp_path / "two"), database=other) as two,
        ):
            hung = faults.hang_part_way(stored=len(points) // 2)
            first = asyncio.create_task(one.gql(CREATE, {"points": points, "key": "k"}, auth=ADMIN))
            try:
                await hung.wait()  # half of it written, the key claimed, then nothing

                refused = await two.gql(CREATE, {"points": points, "key": "k"}, auth=ADMIN)
                assert refused["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
                assert "still being stored" in refused["errors"][0]["message"]
                assert len(await listed(two, "cpu")) <= len(points) // 2  # no second copy
            finally:
                faults.release_hung()  # the first writer fails: its half batch is set aside
                gave_up = await first
            assert gave_up["errors"][0]["extensions"]["code"] == "UNAVAILABLE"

            retried = await two.ok(CREATE, {"points": points, "key": "k"}, auth=ADMIN)
            assert retried["createMetrics"] == {"accepted": 30, "replayed": False}
            expected = sorted(p["value"] for p in points)
            assert await listed(two, "cpu") == expected
            assert await listed(one, "cpu") == expected
            replay = await one.ok(CREATE, {"points": points, "key": "k"}, auth=ADMIN)
            assert replay["createMetrics"] == {"accepted": 30, "replayed": True}
    finally:
        await other.close()
        await database.close()


@pytest.mark.parametrize("factory", [open_mongo_emulated, open_mongo_real], ids=["emu", "real"])
async def test_a_stale_key_is_taken_over_and_its_batch_stored_once(
    tmp_path: Path, factory: Any
) -> None:
    """The first process stalls half-way through a keyed batch and stays silent past the
    key's stale age: the second takes the key over and stores the batch once, with none
    of the stalled half; when the first wakes at last, it is refused (retryable) and its
    half never shows."""
    database = await factory(tmp_path)
    other = await another_instance(
        factory, database, tmp_path, timeout_ms=1_000, key_stale_seconds=1.5
    )
    faults = MongoFaults(database, "mongo")
    start_ms = int(time.time() * 1000) - 60_000
    points = batch("cpu", 30, 100.0, start_ms)
    stalled = batch("cpu", 30, 500.0, start_ms + 20_000)  # other times: its half would show
    try:
        async with (
            serve(make_settings(tmp_path / "one"), database=database) as one,
            serve(make_settings(tmp_path / "two"), database=other) as two,
        ):
            hung = faults.hang_part_way(stored=len(stalled) // 2)
            first = asyncio.create_task(
                one.gql(CREATE, {"points": stalled, "key": "k"}, auth=ADMIN)
            )
            try:
                await hung.wait()
                taken = await two.ok(CREATE, {"points": points, "key": "k"}, auth=ADMIN)
            finally:
                faults.release_hung()
                woke = await first
            assert taken["createMetrics"] == {"accepted": 30, "replayed": False}
            assert woke["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            expected = sorted(p["value"] for p in points)
            assert await listed(two, "cpu") == expected
            assert await listed(one, "cpu") == expected
            replay = await one.ok(CREATE, {"points": points, "key": "k"}, auth=ADMIN)
            assert replay["createMetrics"] == {"accepted": 30, "replayed": True}
    finally:
        await other.close()
        await database.close()
