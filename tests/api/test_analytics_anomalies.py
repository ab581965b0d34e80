"""The ANOMALIES analysis through /graphql on the real app, on DuckDB and on the MongoDB
emulator: a series' history scored by the live detector finds the spike injected into it
(and nothing in its twin without one), now and as a job, with explanations in the server's
anomaly time zone; bad detector settings are refused and create nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from infra.stores.duckdb import DuckDBDatabase
from tests.api.analytics_support import CREATE, END_S, INGEST, JOBS, iso
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
STEP_S = 300
DAY_S = 86_400
START_S = END_S - 3 * DAY_S
SPIKE_S = END_S - 100 * STEP_S  # h1 jumps by 40 (about 40 noise deviations) in this bucket
ZONE = "Asia/Kolkata"  # +05:30: a half-hour offset shows the zone is the one used

RESULT = """
  kind total skipped { tags reason }
  items { ... on AnomaliesResult { tags start step timestamps baseline lower upper score
          episodes sensitivity anomalies { time value score onset explanation } } }"""
ANALYTICS = (
    """query($p: String!, $i: AnalyticsInput!) {
  analytics(project: $p, kind: ANOMALIES, input: $i) {"""
    + RESULT
    + "} }"
)
JOB = (
    """query($p: String!, $id: ID!) {
  analyticsJob(project: $p, id: $id) { state error result(first: 10) {"""
    + RESULT
    + "} } }"
)


def spec(**extra: Any) -> dict[str, Any]:
    return {
        "metric": "api.latency",
        "groupBy": ["host"],
        "step": "5m",
        "from": iso(START_S),
        "to": iso(END_S),
        **extra,
    }


async def load(vigil: RunningVigil) -> None:
    """Three days of a daily wave with noise on two hosts; h1 has one spike at SPIKE_S."""
    rng = np.random.default_rng(5)
    t = np.arange(START_S, END_S, STEP_S)
    wave = 50 + 10 * np.sin(2 * np.pi * (t % DAY_S) / DAY_S)
    points = []
    for host in ("h1", "h2"):
        values = wave + rng.normal(0, 1, len(t))
        if host == "h1":
            values[t == SPIKE_S] += 40
        points.extend(
            {
                "name": "api.latency",
                "value": float(v),
                "timestamp": int(s) * 1000,
                "tags": {"host": host},
            }
            for s, v in zip(t, values, strict=True)
        )
    await vigil.ok(INGEST, {"p": "demo", "points": points}, auth=ADMIN)


async def _duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def vigil(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database = await request.param(tmp_path)
    settings = make_settings(
        tmp_path,
        anomaly_timezone=ZONE,
        analytics_sync_timeout_seconds=60.0,  # a loaded test machine; the limit has its test
        analytics_workers=1,
    )
    try:
        async with serve(settings, database=database) as running:
            await load(running)
            yield running
    finally:
        await database.close()


async def analyse(vigil: RunningVigil, **extra: Any) -> dict[str, Any]:
    data = await vigil.ok(ANALYTICS, {"p": "demo", "i": spec(**extra)}, auth=ADMIN)
    result: dict[str, Any] = data["analytics"]
    return result


def by_host(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert result["kind"] == "ANOMALIES" and result["skipped"] == []
    return {item["tags"]["host"]: item for item in result["items"]}


async def test_the_injected_spike_is_found_and_nothing_else_now_and_as_a_job(
    vigil: RunningVigil,
) -> None:
    now = await analyse(vigil)
    items = by_host(now)
    h1, h2 = items["h1"], items["h2"]
    (spike,) = h1["anomalies"]
    assert datetime.fromisoformat(spike["time"]).timestamp() == SPIKE_S
    assert spike["onset"] and spike["score"] >= 50 and h1["episodes"] == 1
    usual = 50 + 10 * np.sin(2 * np.pi * (SPIKE_S % DAY_S) / DAY_S)
    assert spike["value"] == pytest.approx(usual + 40, abs=5)
    # Told in VIGIL_ANOMALY_TIMEZONE: the daily profile's half-hour slot of the spike there.
    local = datetime.fromtimestamp(SPIKE_S, UTC).astimezone(ZoneInfo(ZONE))
    slot = local.replace(minute=0 if local.minute < 30 else 30)
    assert "deviations above the usual" in spike["explanation"]
    assert spike["explanation"].endswith(f" at {slot:%H:%M}"), spike["explanation"]
    assert h2["anomalies"] == [] and h2["episodes"] == 0
    # The band and the score of every bucket, drawable against the timestamps.
    buckets = 3 * DAY_S // STEP_S
    for item in (h1, h2):
        assert item["timestamps"][0] == START_S * 1000 and item["step"] == STEP_S
        for line in ("timestamps", "baseline", "lower", "upper", "score"):
            assert len(item[line]) == buckets
    at = (SPIKE_S - START_S) // STEP_S
    assert h1["score"][at] == pytest.approx(spike["score"])
    assert h1["lower"][at] < h1["baseline"][at] < h1["upper"][at] < spike["value"]
    assert h1["score"][0] is None  # learning: no band yet

    job = {"kind": "ANOMALIES", "input": spec()}
    created = await vigil.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN)
    job_id = created["createAnalyticsJob"]["id"]
    async with asyncio.timeout(60):
        while True:
            found = (await vigil.ok(JOB, {"p": "demo", "id": job_id}, auth=ADMIN))["analyticsJob"]
            if found["state"] not in ("QUEUED", "RUNNING"):
                break
            await asyncio.sleep(0.1)
    assert (found["state"], found["error"]) == ("SUCCEEDED", None)
    assert found["result"]["items"] == now["items"]  # the same detector, the same data


async def test_the_detector_settings_of_the_input_are_the_ones_used(vigil: RunningVigil) -> None:
    down = by_host(await analyse(vigil, direction="DOWN"))
    assert down["h1"]["anomalies"] == []  # the spike goes up
    blunt = by_host(await analyse(vigil, sensitivity=0.0))
    assert blunt["h1"]["sensitivity"] == 0.0
    assert all(a["score"] >= 100 for a in blunt["h1"]["anomalies"])
    flat = by_host(await analyse(vigil, seasonality="NONE"))
    (spike,) = flat["h1"]["anomalies"]
    assert " at " not in spike["explanation"]  # no daily profile, no time of day


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"sensitivity": 150.0}, "sensitivity must be between 0 and 100"),
        ({"sensitivity": -1.0}, "sensitivity must be between 0 and 100"),
        ({"direction": "NONE"}, "direction must be UP, DOWN or BOTH"),
        ({"step": "0s"}, "step must be positive"),
    ],
)
async def test_bad_detector_settings_are_refused_and_create_nothing(
    vigil: RunningVigil, extra: dict[str, Any], message: str
) -> None:
    job = {"kind": "ANOMALIES", "input": spec(**extra)}
    for body in (
        await vigil.gql(CREATE, {"p": "demo", "job": job}, auth=ADMIN),
        await vigil.gql(ANALYTICS, {"p": "demo", "i": spec(**extra)}, auth=ADMIN),
    ):
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert message in error["message"]
    listed = (await vigil.ok(JOBS, {"p": "demo"}, auth=ADMIN))["analyticsJobs"]
    assert listed["items"] == []
