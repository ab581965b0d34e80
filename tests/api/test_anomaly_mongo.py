"""Anomaly detection, ANOMALY rules and incidents through the real app on the MongoDB
store (the emulator; a real server with VIGIL_TEST_MONGO_URL): the same journeys as on
DuckDB, stored and read back through MongoDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.anomaly_support import ADMIN, ANOMALIES, CONFIGURE, history, point, send, warmed
from tests.api.test_incidents import INCIDENTS, RESOLVE
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real
from tests.support import RunningVigil, make_settings, serve

WEB1 = {"host": "web-1"}
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""


@pytest.fixture(params=[open_mongo_emulated, open_mongo_real], ids=["mongo-emulated", "mongo-real"])
async def vigil(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database = await request.param(tmp_path)
    try:
        async with serve(make_settings(tmp_path, alert_tick_seconds=0.2), database=database) as app:
            yield app
    finally:
        await database.close()


async def _until(vigil: RunningVigil, query: str, path: list[str], count: int) -> list[Any]:
    for _ in range(200):
        found: Any = await vigil.ok(query, {"p": "demo", "m": "latency"}, auth=ADMIN)
        for key in path:
            found = found[key]
        if len(found) >= count:
            return list(found)
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count}: {found}")


async def test_a_spike_fires_an_anomaly_rule_into_an_incident(vigil: RunningVigil) -> None:
    now = time.time()
    await send(vigil, history("latency", WEB1, points=300, end_s=now - 20))
    await vigil.ok(CONFIGURE, {"p": "demo", "i": {"metric": "latency"}}, auth=ADMIN)
    rule = {
        "name": "latency anomalous",
        "metric": "latency",
        "kind": "ANOMALY",
        "aggregation": "MAX",
        "condition": "GE",
        "threshold": 1,
        "groupBy": ["host"],
    }
    await vigil.ok(CREATE, {"p": "demo", "rule": rule}, auth=ADMIN)
    await send(vigil, [point("latency", 100.0, WEB1, now - 10)])
    await warmed(vigil)
    await send(vigil, [point("latency", 175.0, WEB1, now)])

    (anomaly,) = await _until(vigil, ANOMALIES, ["anomalies", "items"], 1)
    assert anomaly["value"] == 175.0 and anomaly["explanation"].startswith("175.0 is ")
    (incident,) = await _until(vigil, INCIDENTS, ["incidents", "items"], 1)
    assert [m["alertName"] for m in incident["members"]] == ["latency anomalous"]
    done = await vigil.ok(RESOLVE, {"p": "demo", "id": incident["id"]}, auth=ADMIN)
    assert done["resolveIncident"]["state"] == "RESOLVED"
