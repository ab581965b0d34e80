"""What a user sees when a batch fails half-way on the MongoDB store (the emulator; a real
server with VIGIL_TEST_MONGO_URL): the request is refused with a retryable error, nothing of
the batch is listed, charted or streamed, the points acknowledged before are all there, and
the retry with the same key stores the batch once and announces it once.

The failure is injected after part of the batch is written (tests/contract/faults.py: a
wrapper around the store's points collection), so the store's recovery code runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.metrics.events import MetricCollectedEvent
from tests.contract.faults import MongoFaults
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
