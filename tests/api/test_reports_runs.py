"""Report runs through the real app: a dashboard read as its viewer shows it, a failing
section fails the run (no file), runs page newest first, `reportGenerated` reaches a
websocket subscriber, and the retention sweep takes old runs' files."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from domain.reports.commands import ExpireReportArtefactsCommand
from domain.reports.document import Artefact
from domain.reports.events import ReportGeneratedEvent
from tests.api.dashboards_support import CREATE as CREATE_DASHBOARD
from tests.api.dashboards_support import DELETE as DELETE_DASHBOARD
from tests.api.dashboards_support import GET as GET_DASHBOARD
from tests.api.reports_support import (
    EDITOR,
    RUNS,
    VIEWER,
    create_report,
    report_input,
    run_now,
    send_cpu,
)
from tests.support import RunningVigil, ws_client

DASHBOARD: dict[str, Any] = {
    "name": "Web tier",
    "timeRange": "1h",
    "variables": [{"name": "host", "tag": "host", "metric": "cpu"}],
    "widgets": [
        {
            "kind": "TIMESERIES",
            "title": "CPU",
            "unit": "%",
            "layout": {"x": 0, "y": 0, "w": 12, "h": 8},
            "queries": [
                {
                    "metric": "cpu",
                    "aggregation": "MAX",
                    "groupBy": ["host"],
                    "step": 300,
                    "matchers": [{"key": "host", "op": "EQ", "value": "$host"}],
                }
            ],
        },
        {
            "kind": "STAT",
            "title": "Peak",
            "layout": {"x": 12, "y": 0, "w": 6, "h": 4},
            "queries": [{"metric": "cpu", "aggregation": "MAX"}],
        },
        {
            "kind": "TEXT",
            "title": "About",
            "layout": {"x": 18, "y": 0, "w": 6, "h": 4},
            "text": "The web tier's CPU.",
        },
    ],
}
GENERATED = """subscription($p: String!) { reportGenerated(project: $p) {
  project reportId runId format bytes sha256 durationMs trigger status error files } }"""


async def _json_of(vigil: RunningVigil, run: dict[str, Any]) -> dict[str, Any]:
    response = await vigil.http.get(run["downloadUrl"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = json.loads(response.content)
    return body


async def test_a_dashboard_section_is_what_the_dashboard_shows(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    made = await vigil.ok(CREATE_DASHBOARD, {"p": "demo", "d": DASHBOARD}, auth=EDITOR)
    dashboard_id = made["createDashboard"]["id"]
    document = report_input(
        sections=[
            {
                "kind": "DASHBOARD",
                "dashboardId": dashboard_id,
                "variables": {"host": "web-2"},
            }
        ]
    )
    report = await create_report(vigil, document)
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    chart, stat, text = (await _json_of(vigil, run))["sections"]
    assert [chart["title"], stat["title"], text["title"]] == [
        "Web tier: CPU",
        "Web tier: Peak",
        "Web tier: About",
    ]
    assert text["markdown"] == "The web tier's CPU."
    shown = await vigil.ok(
        GET_DASHBOARD,
        {
            "p": "demo",
            "id": dashboard_id,
            "vars": {"host": "web-2"},
            "from": run["from"],
            "to": run["to"],
        },
        auth=VIEWER,
    )
    widgets = {w["widgetId"]: w for w in shown["dashboard"]["data"]["widgets"]}
    cpu = widgets[made["createDashboard"]["widgets"][0]["id"]]
    assert [line["tags"] for line in chart["lines"]] == [{"host": "web-2"}]
    assert chart["lines"][0]["values"] == cpu["series"][0]["values"]
    assert [t // 1000 for t in chart["timesUs"]] == cpu["timestamps"]
    assert chart["unit"] == "%" and chart["stepSeconds"] == 300
    peak = widgets[made["createDashboard"]["widgets"][1]["id"]]
    assert stat["rows"] == [[peak["value"], ""]]


async def test_a_failing_section_fails_the_run_and_leaves_no_file(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    made = await vigil.ok(CREATE_DASHBOARD, {"p": "demo", "d": DASHBOARD}, auth=EDITOR)
    dashboard_id = made["createDashboard"]["id"]
    document = report_input(sections=[{"kind": "DASHBOARD", "dashboardId": dashboard_id}])
    report = await create_report(vigil, document)
    await vigil.ok(DELETE_DASHBOARD, {"p": "demo", "id": dashboard_id}, auth=EDITOR)
    run = await run_now(vigil, report["id"])
    assert run["status"] == "failed"
    assert run["error"] == f"section 1 (DASHBOARD): no dashboard {dashboard_id!r} in project 'demo'"
    assert run["files"] == [] and run["downloadUrl"] is None and run["bytes"] == 0
    listed = await vigil.ok(RUNS, {"p": "demo", "id": report["id"]}, auth=VIEWER)
    assert [r["status"] for r in listed["reportRuns"]["items"]] == ["failed"]


async def test_runs_page_newest_first(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    report = await create_report(vigil)
    runs = [(await run_now(vigil, report["id"]))["id"] for _ in range(3)]
    first = await vigil.ok(RUNS, {"p": "demo", "id": report["id"], "first": 2}, auth=VIEWER)
    page = first["reportRuns"]
    assert [r["id"] for r in page["items"]] == runs[::-1][:2]
    assert page["pageInfo"]["hasNextPage"]
    rest = await vigil.ok(
        RUNS,
        {"p": "demo", "id": report["id"], "first": 2, "after": page["pageInfo"]["endCursor"]},
        auth=VIEWER,
    )
    assert [r["id"] for r in rest["reportRuns"]["items"]] == runs[:1]
    assert all(r["trigger"] == "manual" for r in page["items"])


async def test_report_generated_reaches_a_subscriber(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    report = await create_report(vigil)
    async with ws_client(vigil.ws_url, VIEWER) as client:
        op = await client.subscribe(GENERATED, {"p": "demo"})
        await vigil.listening(ReportGeneratedEvent.channel_for("demo"))
        run = await run_now(vigil, report["id"])
        message = await client.next_for(op)
    event = message["payload"]["data"]["reportGenerated"]
    assert event == {
        "project": "demo",
        "reportId": report["id"],
        "runId": run["id"],
        "format": "JSON",
        "bytes": run["bytes"],
        "sha256": run["sha256"],
        "durationMs": event["durationMs"],
        "trigger": "manual",
        "status": "ok",
        "error": None,
        "files": ["weekly-cpu.json"],
    }
    assert 0 < event["durationMs"] == round(run["durationMs"], 3)


async def test_runs_past_the_retention_lose_their_files(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    report = await create_report(vigil, report_input(artefactRetentionDays=2))
    fresh = await run_now(vigil, report["id"])
    app = vigil.app.state.vigil
    # A run of three days ago, as the store would hold it: the sweep is what is tested.
    stored = await app.stores.reports.get_run("demo", fresh["id"])
    old = replace(stored, id="old-run", started_us=int((time.time() - 3 * 86_400) * 1e6))
    await app.stores.reports.save_run(old)
    await app.stores.report_artefacts.put_artefacts(
        "demo", "old-run", [Artefact("weekly-cpu.json", "application/json", b"{}")]
    )
    assert (await vigil.http.get("/reports/old-run/weekly-cpu.json", headers=_auth())).is_success

    assert await app.bus.handle(ExpireReportArtefactsCommand()) == 1
    assert await app.bus.handle(ExpireReportArtefactsCommand()) == 0  # idempotent
    gone = await vigil.http.get("/reports/old-run/weekly-cpu.json", headers=_auth())
    assert gone.status_code == 410
    listed = await vigil.ok(RUNS, {"p": "demo", "id": report["id"]}, auth=VIEWER)
    by_id = {r["id"]: r for r in listed["reportRuns"]["items"]}
    assert by_id["old-run"]["status"] == "expired" and by_id["old-run"]["downloadUrl"] is None
    assert by_id[fresh["id"]]["status"] == "ok"
    assert (await vigil.http.get(fresh["downloadUrl"])).status_code == 200


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {VIEWER}"}
