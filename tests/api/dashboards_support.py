"""Documents, queries and helpers shared by the dashboard API tests."""

from __future__ import annotations

from typing import Any

from tests.support import RunningVigil, token

ADMIN = token(demo="admin")
EDITOR = token("erin", demo="editor")
VIEWER = token("vic", demo="viewer")

CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
WIDGET = """id kind title layout { x y w h } unit min max text alertState alertSeverity
  thresholds { value color }
  queries { metric aggregation groupBy step rate label matchers { key op value } }"""
FIELDS = f"""id project name description version createdBy updatedBy createdAt updatedAt
  timeRange refresh variables {{ name tag metric default }} widgets {{ {WIDGET} }}"""
DATA = """data { from to variables { name value options }
  widgets { widgetId kind step timestamps value color error
            series { query label tags values } rows { tags value } alerts { id name state } } }"""
CREATE = f"""mutation($p: String!, $d: DashboardInput!) {{
  createDashboard(project: $p, dashboard: $d) {{ {FIELDS} }} }}"""
UPDATE = f"""mutation($p: String!, $id: ID!, $v: Int!, $d: DashboardInput!) {{
  updateDashboard(project: $p, dashboardId: $id, expectedVersion: $v, dashboard: $d)
  {{ {FIELDS} }} }}"""
GET = f"""query($p: String!, $id: ID!, $vars: Tags, $range: Duration, $width: Int,
                 $from: DateTime, $to: DateTime) {{
  dashboard(project: $p, id: $id, variables: $vars, range: $range, width: $width,
            from: $from, to: $to) {{ {FIELDS} {DATA} }} }}"""
LIST = """query($p: String!, $search: String, $first: Int, $after: ID) {
  dashboards(project: $p, search: $search, first: $first, after: $after) {
    items { id name } pageInfo { hasNextPage endCursor } } }"""
DELETE = "mutation($p: String!, $id: ID!) { deleteDashboard(project: $p, dashboardId: $id) }"

CPU_WIDGET: dict[str, Any] = {
    "kind": "TIMESERIES",
    "title": "CPU",
    "layout": {"x": 0, "y": 0, "w": 12, "h": 8},
    "queries": [
        {
            "metric": "cpu",
            "aggregation": "MAX",
            "groupBy": ["host"],
            "matchers": [{"key": "host", "op": "EQ", "value": "$host"}],
        }
    ],
}
DOCUMENT: dict[str, Any] = {
    "name": "Web servers",
    "description": "CPU of the web tier",
    "timeRange": "1h",
    "refresh": 30,
    "variables": [{"name": "host", "tag": "host", "metric": "cpu"}],
    "widgets": [
        CPU_WIDGET,
        {
            "kind": "STAT",
            "title": "Peak",
            "layout": {"x": 12, "y": 0, "w": 6, "h": 4},
            "queries": [{"metric": "cpu", "aggregation": "MAX"}],
            "thresholds": [{"color": "green"}, {"value": 80, "color": "red"}],
        },
        {
            "kind": "GAUGE",
            "title": "Now",
            "layout": {"x": 18, "y": 0, "w": 6, "h": 4},
            "queries": [{"metric": "cpu", "aggregation": "LAST"}],
            "min": 0,
            "max": 100,
        },
        {
            "kind": "TABLE",
            "title": "By host",
            "layout": {"x": 12, "y": 4, "w": 12, "h": 4},
            "queries": [{"metric": "cpu", "aggregation": "LAST"}],
        },
        {
            "kind": "ALERT_LIST",
            "title": "Alerts",
            "layout": {"x": 0, "y": 8, "w": 12, "h": 4},
            "alertState": "FIRING",
        },
        {
            "kind": "TEXT",
            "title": "Notes",
            "layout": {"x": 12, "y": 8, "w": 12, "h": 4},
            "text": "# Runbook\n<script>alert(1)</script>",
        },
    ],
}


async def send(
    vigil: RunningVigil, *points: tuple[str, float], project: str = "demo", at: Any = None
) -> None:
    raw = [
        {"name": "cpu", "value": v, "tags": {"host": h}, **({"timestamp": at} if at else {})}
        for h, v in points
    ]
    await vigil.ok(CREATE_POINTS, {"p": project, "points": raw}, auth=token(**{project: "admin"}))


async def create(
    vigil: RunningVigil, document: dict[str, Any] | None = None, *, auth: str = EDITOR
) -> dict[str, Any]:
    data = await vigil.ok(CREATE, {"p": "demo", "d": document or DOCUMENT}, auth=auth)
    created: dict[str, Any] = data["createDashboard"]
    return created


def error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


def by_widget(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["widgetId"]: w for w in dashboard["data"]["widgets"]}
