"""Series with known shapes for the analytics API tests, sent through `createMetrics`, and
the GraphQL of every kind."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tests.support import RunningVigil

STEP_S = 300
DAY_S = 86_400
END_S = int(time.time()) // 3600 * 3600 - 3600  # an hour boundary, in the recent past
DAYS = 4
START_S = END_S - DAYS * DAY_S
SHIFT_S = END_S - DAY_S  # where web.latency on h2 jumps, and the deploy marker
WINDOW_S = END_S - 6 * 3600  # the last 6 h: queue.depth changes there

INGEST = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""


def iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def points() -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    t = np.arange(START_S, END_S, STEP_S)
    day = np.sin(2 * np.pi * (t % DAY_S) / DAY_S)
    out: list[dict[str, Any]] = []

    def add(name: str, values: np.ndarray, tags: dict[str, str]) -> None:
        out.extend(
            {"name": name, "value": float(v), "timestamp": int(s) * 1000, "tags": tags}
            for s, v in zip(t, values, strict=True)
        )

    rising = 100 + 20 * day + 30 * (t - START_S) / DAY_S + rng.normal(0, 2, len(t))
    add("web.latency", rising, {"host": "h1"})
    shifted = 80 + np.where(t >= SHIFT_S, 40.0, 0.0) + rng.normal(0, 2, len(t))
    add("web.latency", shifted, {"host": "h2"})
    night = ((t % DAY_S) < 1800) * 15.0  # a nightly burst: a backup
    add("disk.used", 40 + 2 * (t - START_S) / DAY_S + night + rng.normal(0, 0.3, len(t)), {})
    add("disk.size", np.full(len(t), 100.0), {})
    queue = 10 + rng.normal(0, 1, len(t)) + np.where(t >= WINDOW_S, 25.0, 0.0)
    add("queue.depth", queue, {"q": "jobs"})
    add("cpu", 50 + rng.normal(0, 1, len(t)), {"host": "h1"})
    out.append({"name": "deploy", "value": 1, "timestamp": SHIFT_S * 1000, "tags": {"app": "web"}})
    return out


async def load(vigil: RunningVigil, auth: str, project: str = "demo") -> int:
    sent = points()
    for start in range(0, len(sent), 5_000):
        batch = sent[start : start + 5_000]
        await vigil.ok(INGEST, {"p": project, "points": batch}, auth=auth)
    return len(sent)


def base_input(metric: str, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "step": "5m", "from": iso(START_S), "to": iso(END_S), **extra}


# Every kind, with the input that exercises it.
INPUTS: dict[str, dict[str, Any]] = {
    "TREND": base_input("web.latency", groupBy=["host"]),
    "SEASONALITY": base_input("web.latency", matchers=[{"key": "host", "value": "h1"}]),
    "CHANGE_POINTS": base_input(
        "web.latency", matchers=[{"key": "host", "value": "h2"}], markerMetric="deploy"
    ),
    "FORECAST": base_input("web.latency", groupBy=["host"], horizon="6h"),
    "CAPACITY": base_input("disk.used", horizon="30d", step="1h", limitMetric="disk.size"),
    "CORRELATION": base_input("web.latency", **{"from": iso(WINDOW_S)}),
    "COMPARISON": {
        **base_input("web.latency", groupBy=["host"], **{"from": iso(SHIFT_S)}),
        "baselineFrom": iso(SHIFT_S - DAY_S),
        "baselineTo": iso(SHIFT_S),
    },
}

ITEM = """
fragment Item on AnalyticsItem {
  __typename
  ... on TrendResult { tags direction significant slopePerDay slopeLowPerDay slopeHighPerDay
                       pValue n }
  ... on SeasonalityResult { tags none periods { name period strength profile } }
  ... on ChangePointsResult { tags penalty points { time change meanBefore meanAfter
                              audit { time source summary } } }
  ... on ForecastResult { tags model start step timestamps mean lower80 upper80 lower95 upper95
                          scores { model mase smape coverage80 coverage95 origins } }
  ... on CapacityResult { tags status limit limitTags p05 p50 p95 trendCrossing horizonEnd }
  ... on CorrelationResult { windowFrom baselineFrom ranked { name tags statistic pValue } }
  ... on ComparisonResult { quantileLevels meanDelta current { count mean quantiles }
                            baseline { count mean } movers { tags delta relative } }
}"""
RESULT = "kind total items { ...Item } skipped { tags reason } pageInfo { endCursor hasNextPage }"
ANALYTICS = (
    """query($p: String!, $k: AnalyticsKind!, $i: AnalyticsInput!) {
  analytics(project: $p, kind: $k, input: $i) { """
    + RESULT
    + " } }"
    + ITEM
)
CREATE = """mutation($p: String!, $job: AnalyticsJobInput!) {
  createAnalyticsJob(project: $p, job: $job) { id kind state progress phase createdAt } }"""
CANCEL = """mutation($p: String!, $id: ID!) {
  cancelAnalyticsJob(project: $p, id: $id) { id state cancelRequested } }"""
JOB = (
    """query($p: String!, $id: ID!, $first: Int, $after: String) {
  analyticsJob(project: $p, id: $id) { id kind state progress phase error attempt duration
    startedAt finishedAt expiresAt result(first: $first, after: $after) { """
    + RESULT
    + " } } }"
    + ITEM
)
JOBS = """query($p: String!, $state: AnalyticsJobState, $first: Int, $after: String) {
  analyticsJobs(project: $p, state: $state, first: $first, after: $after) {
    items { id kind state } pageInfo { endCursor hasNextPage } } }"""
PROGRESS = """subscription($p: String!, $id: ID!) {
  analyticsProgress(project: $p, jobId: $id) { jobId state progress phase done total at } }"""
COMPLETED = """subscription($p: String!) {
  analyticsCompleted(project: $p) { jobId kind state duration error resultCount } }"""


async def load_many(
    vigil: RunningVigil, auth: str, *, series: int, buckets: int, project: str = "demo"
) -> dict[str, Any]:
    """`series` noisy daily series of `buckets` one-minute points as metric "many"; the
    input of a FORECAST job over them that keeps a worker busy for seconds."""
    rng = np.random.default_rng(3)
    t = np.arange(END_S - buckets * 60, END_S, 60)
    day = np.sin(2 * np.pi * (t % DAY_S) / DAY_S)
    for s in range(series):
        values = 50 + 10 * day + rng.normal(0, 1, len(t))
        batch = [
            {"name": "many", "value": float(v), "timestamp": int(x) * 1000, "tags": {"s": str(s)}}
            for x, v in zip(t, values, strict=True)
        ]
        for start in range(0, len(batch), 10_000):
            await vigil.ok(
                INGEST, {"p": project, "points": batch[start : start + 10_000]}, auth=auth
            )
    return {
        "metric": "many",
        "step": "1m",
        "from": iso(END_S - buckets * 60),
        "to": iso(END_S),
        "groupBy": ["s"],
        "horizon": "1d",
    }
