"""Ingest through the real ASGI app on a real uvicorn server."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from tests.support import RunningVigil, token

CREATE = """
mutation($project: String!, $points: PointBatch!, $key: String) {
  createMetrics(project: $project, points: $points, idempotencyKey: $key) {
    accepted replayed ids
  }
}"""
READ = "query($id: ID!) { metric(id: $id) { id name value tags timestamp project type } }"
LIST = "query($p: String!) { metrics(project: $p, first: 1000) { items { id value } } }"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_a_batch_is_stored_and_read_back_by_id(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    now = datetime.now(UTC).replace(microsecond=123000)
    points = [
        {"name": "cpu.usage", "value": 0.5, "timestamp": iso(now), "tags": {"host": "a"}},
        {
            "name": "cpu.usage",
            "value": 7,
            "timestamp": int(now.timestamp() * 1000) - 1000,
            "tags": {"host": "b"},
            "type": "gauge",
        },
    ]
    data = await vigil.ok(CREATE, {"project": "demo", "points": points}, auth=admin)
    receipt = data["createMetrics"]
    assert receipt["accepted"] == 2 and receipt["replayed"] is False
    first = (await vigil.ok(READ, {"id": receipt["ids"][0]}, auth=admin))["metric"]
    assert first["name"] == "cpu.usage" and first["value"] == 0.5
    assert first["tags"] == {"host": "a"} and first["project"] == "demo"
    assert first["timestamp"] == iso(now) and first["type"] == "GAUGE"
    second = (await vigil.ok(READ, {"id": receipt["ids"][1]}, auth=admin))["metric"]
    assert second["value"] == 7.0 and second["tags"] == {"host": "b"}


async def test_create_metric_returns_the_stored_point(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    query = """mutation { createMetric(project: "demo",
        point: {name: "disk.free", value: 12.5, tags: {mount: "/"}, type: COUNTER,
                category: "disk", source: "agent"}) { id name value type category source } }"""
    created = (await vigil.ok(query, auth=admin))["createMetric"]
    assert created["type"] == "COUNTER" and created["source"] == "agent"
    read = (await vigil.ok(READ, {"id": created["id"]}, auth=admin))["metric"]
    assert read["value"] == 12.5 and read["tags"] == {"mount": "/"}


async def test_a_bad_batch_names_each_bad_point_and_stores_nothing(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    future = iso(datetime.now(UTC) + timedelta(minutes=11))
    points = [
        {"name": "ok", "value": 1},
        {"name": "bad name!", "value": 1},
        {"name": "ok", "value": "NaN"},
        {"name": "ok", "value": 1, "timestamp": future},
        {"name": "ok", "value": 1, "tags": {f"k{i}": "v" for i in range(40)}},
        {"name": "x" * 300, "value": 1},
    ]
    body = await vigil.gql(CREATE, {"project": "demo", "points": points}, auth=admin)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    indexes = [e["index"] for e in error["extensions"]["errors"]]
    assert indexes == [1, 2, 3, 4, 5]
    listed = await vigil.ok(LIST, {"p": "demo"}, auth=admin)
    assert listed["metrics"]["items"] == []


async def test_non_finite_values_are_refused(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    query = 'mutation { createMetric(project: "demo", point: {name: "x", value: 1e999}) { id } }'
    body = await vigil.gql(query, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert math.isinf(float("1e999"))  # the literal really is infinite


async def test_a_retried_batch_with_the_same_key_stores_nothing_twice(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    # Distinct timestamps: points of one series at one instant are one point.
    start_ms = int(time.time() * 1000) - 60_000
    points = [{"name": "req", "value": float(i), "timestamp": start_ms + i} for i in range(10)]
    variables = {"project": "demo", "points": points, "key": "batch-42"}
    first = (await vigil.ok(CREATE, variables, auth=admin))["createMetrics"]
    again = (await vigil.ok(CREATE, variables, auth=admin))["createMetrics"]
    assert (first["accepted"], first["replayed"]) == (10, False)
    assert (again["accepted"], again["replayed"]) == (10, True)
    listed = await vigil.ok(LIST, {"p": "demo"}, auth=admin)
    assert len(listed["metrics"]["items"]) == 10


async def test_batch_size_and_body_size_limits(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    now_ms = int(time.time() * 1000)
    too_many = [{"name": "n", "value": 1.0, "timestamp": now_ms} for _ in range(10_001)]
    body = await vigil.gql(CREATE, {"project": "demo", "points": too_many}, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 10000" in body["errors"][0]["message"]
    huge = "x" * (9 * 1024 * 1024)
    response = await vigil.http.post(
        "/graphql",
        content=huge,
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
