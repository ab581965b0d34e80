"""Documents, queries and helpers shared by the report API tests."""

from __future__ import annotations

import time
from typing import Any

from tests.support import RunningVigil, token

ADMIN = token(demo="admin")
EDITOR = token("erin", demo="editor")
VIEWER = token("vic", demo="viewer")
OTHER = token("olga", other="admin")  # a member of another project only

CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
REPORT = """id project title timeRange timezone format version createdBy updatedBy
  artefactRetentionDays recipients schedule { kind expression timezone missed }
  sections { kind title dashboardId metric aggregation stepSeconds groupBy markdown
             matchers { key op value } }"""
RUN = """id reportId status trigger format from to durationMs bytes sha256 error downloadUrl
  files { name url }"""
CREATE = f"""mutation($p: String!, $r: ReportInput!) {{
  createReport(project: $p, report: $r) {{ {REPORT} }} }}"""
UPDATE = f"""mutation($p: String!, $id: ID!, $v: Int!, $r: ReportInput!) {{
  updateReport(project: $p, id: $id, expectedVersion: $v, report: $r) {{ {REPORT} }} }}"""
DELETE = "mutation($p: String!, $id: ID!) { deleteReport(project: $p, id: $id) }"
RUN_NOW = f"""mutation($p: String!, $id: ID!) {{ runReport(project: $p, id: $id) {{ {RUN} }} }}"""
GET = f"""query($p: String!, $id: ID!) {{ report(project: $p, id: $id) {{ {REPORT} }} }}"""
LIST = """query($p: String!, $first: Int, $after: ID) {
  reports(project: $p, first: $first, after: $after) {
    items { id title } pageInfo { hasNextPage endCursor } } }"""
RUNS = f"""query($p: String!, $id: ID!, $first: Int, $after: ID) {{
  reportRuns(project: $p, reportId: $id, first: $first, after: $after) {{
    items {{ {RUN} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
SERIES = """query($p: String!, $m: String!, $from: DateTime, $to: DateTime, $step: String,
                $agg: Aggregation, $groupBy: [String!]) {
  metricSeries(project: $p, name: $m, from: $from, to: $to, step: $step, aggregation: $agg,
               groupBy: $groupBy) { timestamps series { tags values } } }"""

HOUR_S = 3_600


def cpu_points(now_s: float, *, minutes: int = 90) -> list[dict[str, Any]]:
    """One point a minute per host over the last `minutes`, values that differ per host."""
    start = int(now_s) - minutes * 60
    points = []
    for i in range(minutes):
        for n, host in enumerate(("web-1", "web-2")):
            points.append(
                {
                    "name": "cpu",
                    "value": float(10 * (n + 1) + i % 7) + 0.25,
                    "timestamp": (start + i * 60) * 1000,
                    "tags": {"host": host, "team": "web"},
                }
            )
    return points


async def send_cpu(vigil: RunningVigil, project: str = "demo") -> None:
    await vigil.ok(
        CREATE_POINTS,
        {"p": project, "points": cpu_points(time.time())},
        auth=token(**{project: "admin"}),
    )


def series_section(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "SERIES",
        "title": "CPU by host",
        "metric": "cpu",
        "aggregation": "MAX",
        "step": "10m",
        "groupBy": ["host"],
        "unit": "%",
        **extra,
    }


def report_input(fmt: str = "JSON", **extra: Any) -> dict[str, Any]:
    return {
        "title": "Weekly CPU",
        "timeRange": "last 1 hour",
        "timezone": "Europe/Paris",
        "format": fmt,
        "sections": [
            series_section(),
            {"kind": "MARKDOWN", "title": "Notes", "markdown": "All **good**."},
        ],
        **extra,
    }


async def create_report(
    vigil: RunningVigil, document: dict[str, Any] | None = None, *, auth: str = EDITOR
) -> dict[str, Any]:
    data = await vigil.ok(CREATE, {"p": "demo", "r": document or report_input()}, auth=auth)
    created: dict[str, Any] = data["createReport"]
    return created


async def run_now(vigil: RunningVigil, report_id: str, *, auth: str = EDITOR) -> dict[str, Any]:
    data = await vigil.ok(RUN_NOW, {"p": "demo", "id": report_id}, auth=auth)
    run: dict[str, Any] = data["runReport"]
    return run


def code_of(body: dict[str, Any]) -> str:
    errors = body.get("errors") or [{}]
    return str(errors[0].get("extensions", {}).get("code"))
