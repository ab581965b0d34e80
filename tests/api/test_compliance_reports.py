"""Compliance reports and checks through /graphql: each control with its status, evidence
and detail; a run announced on `complianceChecked`; a failing check routed to a real
webhook receiver like an alert; collectors' clocks measured at ingest."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from domain.compliance.events import ComplianceCheckedEvent
from tests.api.compliance_support import CHECKED, POINTS, REPORT, RUN, vigil_on
from tests.notifications_support import ACK, CONFIGURE, CREATE_ALERT, POLICY, receiver, webhook
from tests.support import RunningVigil, token, ws_client

ADMIN = token(demo="admin", system="viewer")
OFFSETS = """{ metricSeries(project: "system", name: "vigil.collector.clock_offset_seconds",
  aggregation: MIN, groupBy: ["project", "source"], from: "2020-01-01T00:00:00Z") {
  series { tags values } } }"""
RETENTION_OK = "retention raw 15d, 1m 90d, 1h 730d enforced"  # runs on; none due yet


async def until(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def _ready(found: list[Any], count: int) -> list[Any] | None:
    return found if len(found) >= count else None


async def prepare(vigil: RunningVigil, hook_url: str) -> None:
    """A routed channel, an alert that fired and was acknowledged at once, and a collector
    whose clock is ten minutes behind."""
    made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook_url)}, auth=ADMIN)
    channel = made["configureNotification"]["id"]
    route = {"channels": [channel], "group_wait": "0s", "group_by": ["alertname"]}
    await vigil.ok(POLICY, {"p": "demo", "policy": {"route": route}}, auth=ADMIN)
    await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 10}]}, auth=ADMIN)
    rule = {"name": "cpu high", "metric": "cpu", "threshold": 90, "aggregation": "LAST"}
    alert = (await vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=ADMIN))["createAlert"]
    await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 95}]}, auth=ADMIN)
    await vigil.ok(ACK, {"p": "demo", "id": alert["id"]}, auth=ADMIN)
    behind_ms = int(time.time() * 1000) - 600_000
    late = [{"name": "temp", "value": 20, "timestamp": behind_ms, "source": "agent-7"}]
    await vigil.ok(POINTS, {"p": "demo", "points": late}, auth=ADMIN)

    async def recorded() -> Any:
        found = (await vigil.ok(OFFSETS, auth=ADMIN))["metricSeries"]["series"]
        return [s for s in found if s["tags"] == {"project": "demo", "source": "agent-7"}]

    (line,) = await until(recorded)  # self-monitoring wrote the offset in `system`
    assert min(v for v in line["values"] if v is not None) < -590


@pytest.mark.parametrize("kind", ["duckdb", "mongo-emulated"])
async def test_a_report_maps_each_control_to_its_check_and_a_failing_run_is_routed(
    kind: str, tmp_path: Path
) -> None:
    settings = {
        "notify_allow_loopback": True,
        "notify_tick_seconds": 0.05,
        "self_monitor_seconds": 0.2,
        "clock_tolerance_seconds": 5,
        "compliance_notify": True,
    }
    with receiver(tmp_path) as hook:
        async with vigil_on(kind, tmp_path, **settings) as vigil:
            await prepare(vigil, hook.url)
            soc2 = (await vigil.ok(REPORT, {"p": "demo", "f": "SOC2"}, auth=ADMIN))[
                "complianceReport"
            ]
            iso = (await vigil.ok(REPORT, {"p": "demo", "f": "ISO27001"}, auth=ADMIN))[
                "complianceReport"
            ]
            async with ws_client(vigil.ws_url, ADMIN) as ws:
                op = await ws.subscribe(CHECKED, {"p": "demo"})
                await vigil.listening(ComplianceCheckedEvent.channel_for("demo"))
                ran = (await vigil.ok(RUN, {"p": "demo"}, auth=ADMIN))["runComplianceCheck"]
                heard = (await ws.next_for(op))["payload"]["data"]["complianceChecked"]

            def compliance_alerts() -> list[dict[str, Any]]:
                bodies = [json.loads(r["body"]) for r in hook.requests()]
                found = [a for b in bodies for a in b.get("alerts", [])]
                return [a for a in found if a["alertname"].startswith("Compliance: ")]

            notified = await until(lambda: _ready(compliance_alerts(), 2))

    controls = {(c["id"], c["check"]): c for c in soc2["controls"]}
    assert soc2["status"] == "FAIL" and len(controls) == 9
    assert controls[("CC6.5", "retention")]["status"] == "PASS"
    assert controls[("CC6.5", "retention")]["detail"] == RETENTION_OK
    assert controls[("CC7.2", "monitoring_coverage")]["status"] == "PASS"
    assert controls[("CC7.4", "alert_response")]["status"] == "PASS"
    assert controls[("CC7.4", "alert_response")]["evidence"]["fired"] == 1
    assert controls[("CC6.1", "secrets_encrypted")]["evidence"]["sealed"] == 1
    skew = controls[("CC7.2", "clock_skew")]
    assert skew["status"] == "FAIL" and "agent-7" in skew["detail"]
    assert controls[("CC7.2", "audit_chain")]["status"] == "PASS"
    assert controls[("CC6.3", "access_review")]["status"] == "FAIL"  # none done yet
    assert {c["id"] for c in iso["controls"]} == {
        "A.5.18",
        "A.8.5",
        "A.8.10",
        "A.8.15",
        "A.8.16",
        "A.8.17",
        "A.8.24",
    }

    assert ran["status"] == "FAIL" and heard["run"] == ran["run"] and not heard["scheduled"]
    assert sorted(heard["failing"]) == ["access_review", "clock_skew"]
    names = {a["alertname"] for a in notified}
    assert names == {"Compliance: access_review", "Compliance: clock_skew"}
    compliance = next(a for a in notified if a["alertname"] == "Compliance: clock_skew")
    assert compliance["labels"]["source"] == "compliance" and "agent-7" in compliance["reason"]


async def test_bad_report_arguments_change_nothing(vigil: RunningVigil) -> None:
    query = """query($f: ComplianceFramework!, $from: DateTime, $to: DateTime) {
      complianceReport(project: "demo", framework: $f, from: $from, to: $to) { status } }"""
    for args in (
        {"f": "PCI"},
        {"f": "SOC2", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"f": "SOC2", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    ):
        body = await vigil.gql(query, args, auth=ADMIN)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    body = await vigil.gql(query, {"f": "SOC2"}, auth=token(demo="viewer"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
