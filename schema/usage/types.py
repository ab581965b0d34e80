"""GraphQL types of usage analytics (domain/usage)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.usage import model
from schema.scalars import Tags
from schema.types import from_us

__all__ = [
    "Cardinality",
    "KeyCardinality",
    "MetricCardinality",
    "TagValueCardinality",
    "UnusedMetric",
    "Usage",
    "UsageRow",
]


@strawberry.type(
    description="One bucket of a project's usage, for one tag group (`group`, the values "
    "of groupBy's tags; '' where a series lacks one) or for the whole project (`group` {}). "
    "Project-wide figures (queries, CPU, rules, notifications, reports, bytes) are null in "
    "a tag group's row: they belong to no series."
)
class UsageRow:
    project: str
    bucket: datetime
    group: Tags
    points: float = strawberry.field(description="Points ingested (by arrival time).")
    active_series: int = strawberry.field(description="Distinct series written to.")
    new_series: int = strawberry.field(description="Series first stored (churn).")
    queries: float | None
    query_cpu_seconds: float | None = strawberry.field(
        description="CPU time of the event loop while the project's queries ran."
    )
    rule_evaluations: float | None
    notifications_sent: float | None
    analytics_cpu_seconds: float | None
    reports_rendered: float | None
    bytes_raw: float | None = strawberry.field(
        description="Bytes stored as raw points (uncompressed size; the last sample)."
    )
    bytes_1m: float | None = strawberry.field(description="Bytes stored as 1-minute buckets.")
    bytes_1h: float | None = strawberry.field(description="Bytes stored as 1-hour buckets.")

    @classmethod
    def of(cls, row: model.UsageRow) -> UsageRow:
        f = row.figures
        return cls(
            project=row.project,
            bucket=from_us(row.bucket_us),
            group=Tags(row.group),
            points=float(row.points),
            active_series=row.active_series,
            new_series=row.new_series,
            queries=None if f is None else f.get(model.QUERIES, 0.0),
            query_cpu_seconds=None if f is None else f.get(model.QUERY_CPU_SECONDS, 0.0),
            rule_evaluations=None if f is None else f.get(model.RULE_EVALUATIONS, 0.0),
            notifications_sent=None if f is None else f.get(model.NOTIFICATIONS_SENT, 0.0),
            analytics_cpu_seconds=None if f is None else f.get(model.ANALYTICS_CPU_SECONDS, 0.0),
            reports_rendered=None if f is None else f.get(model.REPORTS_RENDERED, 0.0),
            bytes_raw=None if f is None else f.get("bytes.raw", 0.0),
            bytes_1m=None if f is None else f.get("bytes.1m", 0.0),
            bytes_1h=None if f is None else f.get("bytes.1h", 0.0),
        )


@strawberry.type(description="A project's usage: rows by bucket and group, and totals.")
class Usage:
    project: str
    step_seconds: float
    group_by: list[str]
    rows: list[UsageRow]
    totals: list[UsageRow] = strawberry.field(
        description="Per bucket, the whole project with every figure."
    )

    @classmethod
    def of(cls, report: model.UsageReport) -> Usage:
        return cls(
            project=report.project,
            step_seconds=report.step_us / 1e6,
            group_by=list(report.group_by),
            rows=[UsageRow.of(r) for r in report.rows],
            totals=[UsageRow.of(r) for r in report.totals],
        )


@strawberry.type
class MetricCardinality:
    metric: str
    series: int
    new_series: int


@strawberry.type
class KeyCardinality:
    key: str
    series: int = strawberry.field(description="Series carrying this tag key.")
    values: int = strawberry.field(description="Distinct values of the key.")


@strawberry.type
class TagValueCardinality:
    key: str
    value: str
    series: int
    new_series: int


@strawberry.type(
    description="Why a project has the series it has: the largest metrics and tag keys, and "
    "the tag values that bring the most series, with how many of each are recent (`newSeries`"
    ": first stored since `recentSince`)."
)
class Cardinality:
    project: str
    series: int
    new_series: int
    recent_since: datetime
    metrics: list[MetricCardinality]
    keys: list[KeyCardinality]
    top_values: list[TagValueCardinality]

    @classmethod
    def of(cls, c: model.Cardinality) -> Cardinality:
        return cls(
            project=c.project,
            series=c.series,
            new_series=c.new_series,
            recent_since=from_us(c.recent_since_us),
            metrics=[
                MetricCardinality(metric=m.metric, series=m.series, new_series=m.new_series)
                for m in c.metrics
            ],
            keys=[KeyCardinality(key=k.key, series=k.series, values=k.values) for k in c.keys],
            top_values=[
                TagValueCardinality(
                    key=v.key, value=v.value, series=v.series, new_series=v.new_series
                )
                for v in c.top_values
            ],
        )


@strawberry.type(description="A metric no chart, rule, report or query read lately.")
class UnusedMetric:
    metric: str
    series: int
    last_read: datetime | None = strawberry.field(
        description="Null: never read since the read log began."
    )
    stored_bytes: float
    storage_share: float = strawberry.field(description="Of the project's stored bytes, 0..1.")

    @classmethod
    def of(cls, m: model.UnusedMetric) -> UnusedMetric:
        return cls(
            metric=m.metric,
            series=m.series,
            last_read=None if m.last_read_us is None else from_us(m.last_read_us),
            stored_bytes=float(m.stored_bytes),
            storage_share=m.storage_share,
        )
