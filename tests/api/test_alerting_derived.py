"""ANOMALY and FORECAST alert rules through the real app: they fire, resolve and are
backtested by previewAlert, with the threshold rules' machine (pending, keep-firing)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.alerting.events import AlertEvent
from tests.api.anomaly_support import ADMIN, history, point, send, warmed
from tests.support import RunningVigil, make_settings, serve, token, ws_client

WEB1 = {"host": "web-1"}
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) { createAlert(project: $p, rule: $rule) {
  id state rule { kind window threshold keepFiringFor anomaly { minScore direction seasonality }
                  forecast { horizon confidence history } }
  instances { key state value } } }"""
GET = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) {
  state instances { key state value } history { from to reason value } } }"""
PREVIEW = """query($p: String!, $rule: AlertRuleInput!, $from: DateTime, $to: DateTime,
                   $step: String) {
  previewAlert(project: $p, rule: $rule, from: $from, to: $to, step: $step) {
    points transitions { instance from to at value reason } notifications { to } } }"""
TRIGGERED = """subscription($p: String!) { alertTriggered(project: $p) {
  alertId tags value threshold reason } }"""
ANOMALY_RULE: dict[str, Any] = {
    "name": "latency anomalous",
    "metric": "latency",
    "kind": "ANOMALY",
    "aggregation": "MAX",
    "condition": "GE",
    "threshold": 1,
    "window": "1m",
    "groupBy": ["host"],
    "anomaly": {"minScore": 50, "recoveryWindow": "30s"},
}


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=0.2)) as running:
        yield running


async def _create(vigil: RunningVigil, rule: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = (await vigil.ok(CREATE, {"p": "demo", "rule": rule}, auth=ADMIN))[
        "createAlert"
    ]
    return made


async def test_an_anomaly_rule_fires_on_an_anomalous_point_and_recovers(
    vigil: RunningVigil,
) -> None:
    now = time.time()
    await send(vigil, history("latency", WEB1, points=400, end_s=now - 30))
    alert = await _create(vigil, ANOMALY_RULE)
    assert alert["rule"]["kind"] == "ANOMALY" and alert["rule"]["keepFiringFor"] == 30.0
    assert alert["rule"]["anomaly"] == {
        "minScore": 50.0,
        "direction": "BOTH",
        "seasonality": "AUTO",
    }
    await send(vigil, [point("latency", 100.0, WEB1, now - 20)])  # its detector appears
    await warmed(vigil)
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(TRIGGERED, {"p": "demo"})
        await vigil.listening(AlertEvent.channel_for("demo"))
        await send(vigil, [point("latency", 170.0, WEB1, now - 10)])
        message = await client.next_for(op)
    fired = message["payload"]["data"]["alertTriggered"]
    assert (fired["alertId"], fired["tags"], fired["value"]) == (alert["id"], WEB1, 1.0)
    # Normal points: the window still holds the spike for a minute, then 30 s more.
    await send(vigil, [point("latency", 100.0 + i % 3, WEB1, now + i * 10) for i in range(10)])
    got = await _history_of(vigil, alert["id"], 2)  # written within milliseconds
    assert got["state"] == "RESOLVED"
    reasons = [(h["from"], h["to"], h["reason"]) for h in got["history"]]
    assert reasons == [
        ("FIRING", "RESOLVED", "keep-firing period elapsed"),
        ("OK", "FIRING", "threshold crossed"),
    ]


async def test_an_anomaly_rule_is_refused_with_a_code_when_it_cannot_work(
    vigil: RunningVigil,
) -> None:
    await send(vigil, [point("latency", 1.0, WEB1)])
    for change, message in (
        ({"aggregation": "P95"}, "an ANOMALY rule aggregates AVG"),
        ({"threshold": 2}, "threshold is a share"),
        ({"anomaly": {"minScore": 0}}, "min_score must be within (0, 100]"),
        ({"condition": "LT"}, "fires on GT or GE"),
        ({"keepFiringFor": "1m"}, "recoveryWindow is the keepFiringFor"),
    ):
        body = await vigil.gql(CREATE, {"p": "demo", "rule": ANOMALY_RULE | change}, auth=ADMIN)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert message in body["errors"][0]["message"]


async def test_preview_backtests_an_anomaly_rule_over_stored_points(vigil: RunningVigil) -> None:
    now = time.time()
    points = history("latency", WEB1, points=600, end_s=now)
    spike_at = now - 1000
    points.append(point("latency", 190.0, WEB1, spike_at + 5))
    await send(vigil, points)
    body = await vigil.ok(
        PREVIEW,
        {
            "p": "demo",
            "rule": ANOMALY_RULE,
            "from": _iso(now - 3000),
            "to": _iso(now),
            "step": "10s",
        },
        auth=ADMIN,
    )
    preview = body["previewAlert"]
    moves = [(t["from"], t["to"], t["reason"]) for t in preview["transitions"]]
    assert moves == [
        ("OK", "FIRING", "threshold crossed"),
        ("FIRING", "RESOLVED", "keep-firing period elapsed"),
    ]
    fired_at = preview["transitions"][0]["at"]
    assert fired_at.startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(spike_at + 5)))
    assert [n["to"] for n in preview["notifications"]] == ["FIRING", "RESOLVED"]


async def test_a_forecast_rule_fires_before_the_limit_is_reached(vigil: RunningVigil) -> None:
    now = time.time()
    # Disk use climbing 3% an hour from 50%: 86% now, 95% in about 3 hours. (A forecast
    # reaches as far ahead as its history can backtest: about 11 hours of 12 here.)
    climb = [
        point("disk", 50.0 + i * 3 / 60 + 0.05 * ((i * 7) % 5), WEB1, now - 12 * 3600 + i * 60)
        for i in range(12 * 60)
    ]
    await send(vigil, climb)
    rule = {
        "name": "disk full within 2 days",
        "metric": "disk",
        "kind": "FORECAST",
        "aggregation": "MAX",
        "threshold": 95,
        "window": "10s",
        "groupBy": ["host"],
        "forecast": {"horizon": "2d", "confidence": 0.8, "history": "12h"},
    }
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(TRIGGERED, {"p": "demo"})
        await vigil.listening(AlertEvent.channel_for("demo"))
        alert = await _create(vigil, rule)
        message = await client.next_for(op, timeout=30)
    fired = message["payload"]["data"]["alertTriggered"]
    assert fired["alertId"] == alert["id"] and fired["tags"] == WEB1
    assert fired["value"] >= 95 and fired["threshold"] == 95
    shorter = rule | {"forecast": {"horizon": "1h", "confidence": 0.8, "history": "12h"}}
    body = await vigil.ok(
        PREVIEW,
        {"p": "demo", "rule": shorter, "from": _iso(now - 600), "to": _iso(now), "step": "1m"},
        auth=ADMIN,
    )
    assert body["previewAlert"]["transitions"] == []  # an hour ahead: about 89%
    assert body["previewAlert"]["points"] > 0


async def _history_of(vigil: RunningVigil, alert_id: str, count: int) -> dict[str, Any]:
    for _ in range(100):
        got: dict[str, Any] = (await vigil.ok(GET, {"p": "demo", "id": alert_id}, auth=ADMIN))[
            "alert"
        ]
        if len(got["history"]) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} transitions stored: {got}")


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
