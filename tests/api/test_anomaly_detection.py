"""Anomaly detection through the real app: configure, score live, explain, list, band,
subscribe, tenancy and bad input; state restored after a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.anomaly.events import AnomalyDetectedEvent
from tests.api.anomaly_support import (
    ADMIN,
    ANOMALIES,
    BAND,
    CONFIGURE,
    DETECTED,
    DETECTIONS,
    history,
    point,
    send,
    warmed,
)
from tests.support import RunningVigil, make_settings, serve, token, until, ws_client

WEB1 = {"host": "web-1"}


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=0.2)) as running:
        yield running


async def _configure(vigil: RunningVigil, auth: str = ADMIN, **fields: Any) -> dict[str, Any]:
    body = {"metric": "latency"} | fields
    data = await vigil.ok(CONFIGURE, {"p": "demo", "i": body}, auth=auth)
    found: dict[str, Any] = data["configureAnomalyDetection"]
    return found


async def _detectors(vigil: RunningVigil) -> list[dict[str, Any]]:
    found = await vigil.ok(DETECTIONS, {"p": "demo"}, auth=ADMIN)
    return [d for x in found["anomalyDetections"] for d in x["detectors"] or []]


async def test_a_spike_is_scored_explained_published_and_listed(vigil: RunningVigil) -> None:
    now = time.time()
    await send(vigil, history("latency", WEB1, points=400, end_s=now - 20))
    made = await _configure(vigil)
    assert (made["sensitivity"], made["threshold"], made["direction"]) == (50.0, 50.0, "BOTH")
    await send(vigil, [point("latency", 100.5, WEB1, now - 10)])  # the detector appears
    await warmed(vigil)
    (detector,) = await _detectors(vigil)
    # the last hour raw, the minutes before it as 2-minute averages
    assert detector["state"] == "BASIC" and detector["modelAgePoints"] >= 350
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(DETECTED, {"p": "demo"})
        await vigil.listening(AnomalyDetectedEvent.channel_for("demo"))
        await send(vigil, [point("latency", 160.0, WEB1, now)])
        message = await client.next_for(op)
    got = message["payload"]["data"]["anomalyDetected"]
    assert got["metric"] == "latency" and got["tags"] == WEB1 and got["value"] == 160.0
    assert got["score"] >= 50 and got["pValue"] <= 1e-5 and got["onset"]
    assert got["direction"] == "UP" and got["state"] == "BASIC"
    assert got["lower"] < got["baseline"] < got["upper"] < 160.0
    assert (
        got["explanation"].startswith("160.0 is ")
        and "deviations above the usual" in got["explanation"]
    )

    listed = await _listed(vigil, 1)
    (item,) = listed["anomalies"]["items"]
    assert item["explanation"] == got["explanation"] and item["value"] == 160.0
    assert listed["anomalies"]["pageInfo"]["hasNextPage"] is False


async def test_the_band_is_there_at_once_for_a_series_with_history(vigil: RunningVigil) -> None:
    now = time.time()
    await send(vigil, history("latency", WEB1, points=400, end_s=now - 10))
    await _configure(vigil)
    await send(vigil, [point("latency", 100.0, WEB1, now)])
    await warmed(vigil)
    start = now - 1800
    line: dict[str, Any] = {}

    async def banded() -> bool:  # a tick writes the band rows of the seeded history
        nonlocal line
        band = await vigil.ok(
            BAND,
            {"p": "demo", "m": "latency", "from": _iso(start), "to": _iso(now), "step": "5m"},
            auth=ADMIN,
        )
        (line,) = band["anomalyBand"]["series"] or [{}]
        return sum(b is not None for b in line.get("baseline", [])) >= 5

    # 30 minutes of history in 5-minute buckets, written by the next tick (0.2 s): within
    # 25 ticks on a loaded machine.
    await until(banded, 25 * 0.2, "the band of the seeded history")
    assert line["tags"] == WEB1
    filled = [
        (b, lo, hi)
        for b, lo, hi in zip(line["baseline"], line["lower"], line["upper"], strict=True)
        if b is not None
    ]
    for baseline, lower, upper in filled:  # values around 100, sd 2: about 5 sd each way
        assert 85 < lower < 95 and 98 < baseline < 102 and 105 < upper < 115


async def test_a_flat_series_and_a_normal_one_raise_nothing(vigil: RunningVigil) -> None:
    now = time.time()
    flat = [point("latency", 5.0, {"host": "flat"}, now - 400 * 10 + i * 10) for i in range(400)]
    await send(vigil, flat + history("latency", WEB1, points=400, end_s=now, seed=7))
    await _configure(vigil)
    await send(vigil, [point("latency", 5.0, {"host": "flat"}), point("latency", 100, WEB1)])
    await warmed(vigil)
    more = [point("latency", 5.0, {"host": "flat"}, now + i) for i in range(1, 30)]
    await send(vigil, more)
    listed = await vigil.ok(ANOMALIES, {"p": "demo", "m": "latency"}, auth=ADMIN)
    assert listed["anomalies"]["items"] == []


async def test_contributors_name_the_series_that_carried_the_anomalies(
    vigil: RunningVigil,
) -> None:
    now = time.time()
    hosts = [{"host": f"web-{i}", "dc": "eu"} for i in range(3)]
    for n, tags in enumerate(hosts):
        await send(vigil, history("latency", tags, points=300, end_s=now - 20, seed=n))
    await _configure(vigil)
    await send(vigil, [point("latency", 100.0, tags, now - 10) for tags in hosts])
    await warmed(vigil)
    await send(
        vigil, [point("latency", 180.0, hosts[2], now), point("latency", 150, hosts[2], now + 1)]
    )
    listed = await _listed(vigil, 2)
    top = listed["anomalies"]["contributors"][0]
    assert (top["key"], top["value"], top["share"]) == ("host", "web-2", 1.0)
    assert all(c["key"] != "dc" for c in listed["anomalies"]["contributors"])  # one value


async def test_bad_input_is_refused_with_a_code_and_changes_nothing(vigil: RunningVigil) -> None:
    await send(vigil, [point("latency", 1.0, WEB1)])
    for fields, message in (
        ({"metric": "nope"}, "unknown metric 'nope'"),
        ({"sensitivity": 120}, "sensitivity must be within 0-100"),
        ({"matchers": [{"key": "host", "op": "REGEX", "value": "("}]}, "invalid regex"),
    ):
        body = await vigil.gql(
            CONFIGURE, {"p": "demo", "i": {"metric": "latency"} | fields}, auth=ADMIN
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert message in body["errors"][0]["message"]
    assert (await vigil.ok(DETECTIONS, {"p": "demo"}, auth=ADMIN))["anomalyDetections"] == []
    viewer = await vigil.gql(
        CONFIGURE, {"p": "demo", "i": {"metric": "latency"}}, auth=token(demo="viewer")
    )
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await vigil.gql(ANOMALIES, {"p": "demo", "m": "latency"}, auth=token(other="admin"))
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_configuring_again_changes_it_and_disabling_stops_scoring(
    vigil: RunningVigil,
) -> None:
    now = time.time()
    await send(vigil, history("latency", WEB1, points=300, end_s=now - 10))
    first = await _configure(vigil)
    again = await _configure(vigil, sensitivity=70)
    assert (again["id"], again["version"], again["threshold"]) == (first["id"], 2, 30.0)
    off = await _configure(vigil, enabled=False)
    assert (off["enabled"], off["detectors"]) == (False, None)
    await send(vigil, [point("latency", 500.0, WEB1, now)])
    listed = await vigil.ok(ANOMALIES, {"p": "demo", "m": "latency"}, auth=ADMIN)
    assert listed["anomalies"]["items"] == []


async def test_detector_state_is_restored_after_a_restart_without_relearning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, alert_tick_seconds=0.2)
    now = time.time()
    async with serve(settings) as vigil:
        await send(vigil, history("latency", WEB1, points=400, end_s=now - 20))
        await _configure(vigil)
        await send(vigil, [point("latency", 100.0, WEB1, now - 10)])
        await warmed(vigil)
        (before,) = await _detectors(vigil)

    async def no_history(*_: Any, **__: Any) -> Any:
        raise AssertionError("a restarted detector must not read its history again")

    monkeypatch.setattr("domain.anomaly.runtime.warming.read_history", no_history)
    async with serve(settings) as vigil:
        await send(vigil, [point("latency", 100.2, WEB1, now)])
        await warmed(vigil)
        (after,) = await _detectors(vigil)
        assert after["state"] == "BASIC"
        assert after["modelAgePoints"] == before["modelAgePoints"] + 1
        async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
            op = await client.subscribe(DETECTED, {"p": "demo"})
            await vigil.listening(AnomalyDetectedEvent.channel_for("demo"))
            await send(vigil, [point("latency", 170.0, WEB1, now + 10)])
            message = await client.next_for(op)
        assert message["payload"]["data"]["anomalyDetected"]["value"] == 170.0


async def _listed(vigil: RunningVigil, count: int) -> dict[str, Any]:
    """The anomalies once `count` are written (within milliseconds of the point)."""
    for _ in range(100):
        listed = await vigil.ok(ANOMALIES, {"p": "demo", "m": "latency"}, auth=ADMIN)
        if len(listed["anomalies"]["items"]) >= count:
            return listed
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} anomalies: {listed}")


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
