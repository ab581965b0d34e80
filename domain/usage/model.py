"""The usage model: the figures Vigil accounts per project and minute, and the answers of
`usage`, `cardinality` and `unusedMetrics`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ANALYTICS_CPU_SECONDS",
    "BYTES_PER_ROW",
    "COUNTER_FIGURES",
    "GAUGE_FIGURES",
    "MINUTE_US",
    "NOTIFICATIONS_SENT",
    "QUERIES",
    "QUERY_CPU_SECONDS",
    "REPORTS_RENDERED",
    "RULE_EVALUATIONS",
    "USAGE_SOURCE",
    "Cardinality",
    "CounterRow",
    "KeyCardinality",
    "MetricCardinality",
    "NewSeriesRow",
    "SeriesUsageRow",
    "StoredRows",
    "TagValueCardinality",
    "UnusedMetric",
    "UsageReport",
    "UsageRow",
]

MINUTE_US = 60_000_000

# Counted per project and minute by the instances (summed across them).
QUERIES = "queries"
QUERY_CPU_SECONDS = "query_cpu_seconds"
RULE_EVALUATIONS = "rule_evaluations"
NOTIFICATIONS_SENT = "notifications_sent"
ANALYTICS_CPU_SECONDS = "analytics_cpu_seconds"
REPORTS_RENDERED = "reports_rendered"
COUNTER_FIGURES = (
    QUERIES,
    QUERY_CPU_SECONDS,
    RULE_EVALUATIONS,
    NOTIFICATIONS_SENT,
    ANALYTICS_CPU_SECONDS,
    REPORTS_RENDERED,
)
# Sampled once a minute by the instance holding the usage lease: a bucket takes the last.
GAUGE_FIGURES = ("bytes.raw", "bytes.1m", "bytes.1h")

# The source of the `vigil.usage.*` points: ingest does not count them as usage, or
# writing usage would be usage (decision 0034-usage-accounting).
USAGE_SOURCE = "vigil.usage"

# Bytes a row takes, uncompressed: a raw point is a timestamp and a value; a rollup row
# holds ten numbers and a sketch of ~20 buckets. Both stores compress below this, so the
# figure is an upper bound that is the same on DuckDB and MongoDB (decision 0034).
BYTES_PER_ROW = {"raw": 16, "1m": 240, "1h": 240}


@dataclass(frozen=True, slots=True)
class SeriesUsageRow:
    """Points ingested and distinct series written in a bucket, for one tag group."""

    bucket_us: int
    group: tuple[str, ...]
    points: int
    active_series: int


@dataclass(frozen=True, slots=True)
class NewSeriesRow:
    bucket_us: int
    group: tuple[str, ...]
    new_series: int


@dataclass(frozen=True, slots=True)
class CounterRow:
    """A project figure in a bucket: `total` for counters, `last` for gauges."""

    bucket_us: int
    figure: str
    total: float
    last: float


@dataclass(frozen=True, slots=True)
class StoredRows:
    """Rows a metric holds in a tier (raw points, 1-minute or 1-hour buckets)."""

    metric: str
    tier: str
    rows: int
    project: str = ""


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One bucket of one group (all of the project when not grouped). The project-wide
    figures (queries, CPU, bytes, ...) are None in rows of a tag group: they belong to no
    series."""

    project: str
    bucket_us: int
    group: dict[str, str]
    points: int = 0
    active_series: int = 0
    new_series: int = 0
    figures: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class UsageReport:
    """`rows` by bucket and group; `totals`: the same buckets for the whole project, with
    every figure (equal to `rows` when nothing is grouped)."""

    project: str
    step_us: int
    group_by: tuple[str, ...]
    rows: list[UsageRow] = field(default_factory=list)
    totals: list[UsageRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TagValueCardinality:
    key: str
    value: str
    series: int
    new_series: int  # of them, first stored within the recent window


@dataclass(frozen=True, slots=True)
class KeyCardinality:
    key: str
    series: int  # series carrying the key
    values: int  # distinct values


@dataclass(frozen=True, slots=True)
class MetricCardinality:
    metric: str
    series: int
    new_series: int


@dataclass(frozen=True, slots=True)
class Cardinality:
    """Why a project has the series it has: counts by metric and tag key, and the tag
    values that bring the most series (and how many of those are recent)."""

    project: str
    series: int
    new_series: int
    recent_since_us: int
    metrics: list[MetricCardinality]
    keys: list[KeyCardinality]
    top_values: list[TagValueCardinality]


@dataclass(frozen=True, slots=True)
class UnusedMetric:
    metric: str
    series: int
    last_read_us: int | None  # None: never read since the read log began
    stored_bytes: int
    storage_share: float  # of the project's stored bytes, 0..1
