"""Helpers of the usage tests: a project with tagged series, and the usage read back."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from domain.usage.runner import UsageRunner
from tests.support import RunningVigil

CREATE = """
mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted }
}
"""
USAGE = """
query($p: String!, $from: DateTime, $to: DateTime, $step: String!, $g: [String!]) {
  usage(project: $p, from: $from, to: $to, step: $step, groupBy: $g) {
    project stepSeconds groupBy
    rows { bucket group points activeSeries newSeries queries }
    totals { bucket points activeSeries newSeries queries queryCpuSeconds ruleEvaluations
             notificationsSent analyticsCpuSeconds reportsRendered bytesRaw bytes1m bytes1h }
  }
}
"""
SERIES = """
query($p: String!, $n: String!, $from: DateTime) {
  metricSeries(project: $p, name: $n, from: $from, aggregation: SUM) { series { tags values } }
}
"""

# Four series of `http.requests` across two teams and three services, one of `queue.depth`
# and one without the team tag: 5 + 5 + 3 + 3 + 2 + 1 points.
SENT = [
    ("http.requests", {"team": "web", "service": "api", "host": "a"}, 5),
    ("http.requests", {"team": "web", "service": "api", "host": "b"}, 5),
    ("http.requests", {"team": "web", "service": "front", "host": "a"}, 3),
    ("http.requests", {"team": "data", "service": "etl", "host": "c"}, 3),
    ("queue.depth", {"team": "data", "service": "etl", "host": "c"}, 2),
    ("disk.free", {"host": "d"}, 1),
]


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()


async def send(vigil: RunningVigil, auth: str, project: str = "demo") -> int:
    now_ms = int(time.time() * 1000)
    points = [
        {"name": name, "value": float(i), "tags": tags, "timestamp": now_ms - 60_000 + i * 1000}
        for name, tags, count in SENT
        for i in range(count)
    ]
    await vigil.ok(CREATE, {"p": project, "points": points}, auth=auth)
    return len(points)


def runner(vigil: RunningVigil) -> UsageRunner:
    found: UsageRunner | None = vigil.app.state.vigil.runtimes.usage
    assert found is not None
    return found


async def usage(
    vigil: RunningVigil, auth: str, *, group_by: list[str] | None = None, project: str = "demo"
) -> dict[str, Any]:
    """The last hour (and the minute under way) as one bucket: buckets start at multiples
    of the step since the epoch, and one of 3650 days starts in 2020."""
    now = time.time_ns() // 1000
    variables = {
        "p": project,
        "from": iso(now - 3_600_000_000),
        "to": iso(now + 60_000_000),
        "step": "3650d",
        "g": group_by,
    }
    data = await vigil.ok(USAGE, variables, auth=auth)
    return dict(data["usage"])
