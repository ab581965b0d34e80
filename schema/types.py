"""GraphQL output types: the RFC's DTOs as clients see them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry

from domain.matchers import MatchOp as DomainMatchOp
from domain.metrics import read_models as metric_reads
from domain.metrics.model import Aggregation as DomainAggregation
from domain.metrics.model import Metric as DomainMetric
from domain.metrics.model import MetricDescription as DomainMetricDescription
from domain.metrics.model import MetricType as DomainMetricType
from domain.system import read_models as system_reads
from schema.scalars import FloatArray, JSONObject, JSONValue, Tags

__all__ = [
    "Aggregation",
    "AuditChange",
    "AuditEntry",
    "ComponentHealth",
    "IngestReceipt",
    "MatchOp",
    "Metric",
    "MetricConnection",
    "MetricMetadata",
    "MetricSeries",
    "MetricType",
    "PageInfo",
    "SeriesLine",
    "SystemHealth",
    "from_us",
    "to_us",
]

MetricType = strawberry.enum(DomainMetricType, name="MetricType")
Aggregation = strawberry.enum(DomainAggregation, name="Aggregation")


@strawberry.enum(description="How a tag matcher compares: =, !=, =~ (regex), !~.")
class MatchOp(Enum):
    EQ = DomainMatchOp.EQ
    NEQ = DomainMatchOp.NEQ
    REGEX = DomainMatchOp.REGEX
    NOT_REGEX = DomainMatchOp.NOT_REGEX


def from_us(timestamp_us: int) -> datetime:
    return datetime.fromtimestamp(timestamp_us / 1e6, UTC)


def to_us(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1_000_000)


@strawberry.type(description="One stored point (the RFC's MetricDto).")
class Metric:
    id: strawberry.ID
    project: str
    name: str
    category: str
    type: MetricType  # type: ignore[valid-type]
    value: float
    tags: Tags
    timestamp: datetime
    source: str

    @classmethod
    def of(cls, m: DomainMetric) -> Metric:
        return cls(
            id=strawberry.ID(m.id),
            project=m.project,
            name=m.name,
            category=m.category,
            type=m.type,
            value=m.value,
            tags=Tags(dict(m.tags)),
            timestamp=from_us(m.timestamp_us),
            source=m.source,
        )


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type(description="A page of points, newest first.")
class MetricConnection:
    items: list[Metric]
    page_info: PageInfo


@strawberry.type(description="One line of a chart: its tags and one value per bucket.")
class SeriesLine:
    tags: Tags
    values: FloatArray


@strawberry.type(description="Dense arrays for charts: timestamps[i] starts bucket i.")
class MetricSeries:
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    series: list[SeriesLine]
    resolution: str = strawberry.field(
        default="raw",
        description="The coarsest storage tier that served the answer: raw (points), 1m or"
        " 1h (rollups). The values are the same whichever served them; percentiles always"
        " read raw points (docs/metrics.md).",
    )

    @classmethod
    def of(cls, result: metric_reads.SeriesResult) -> MetricSeries:
        return cls(
            resolution=result.resolution,
            timestamps=FloatArray([t // 1000 for t in result.timestamps_us]),
            series=[
                SeriesLine(tags=Tags(s.tags), values=FloatArray(s.values)) for s in result.series
            ],
        )


@strawberry.type(description="An accepted batch.")
class IngestReceipt:
    accepted: int
    replayed: bool = strawberry.field(
        description="True when the idempotency key was seen before: nothing was stored twice."
    )
    _receipt: strawberry.Private[metric_reads.IngestReceipt]
    ids: list[strawberry.ID] = strawberry.field(
        resolver=lambda root: [strawberry.ID(i) for i in root._receipt.point_ids()],
        description="The ids of the stored points, in the order sent (derived when asked).",
    )


@strawberry.type(
    description="A metric name and what its senders said about it: the Prometheus type and"
    " help text, the OpenTelemetry unit and description. Null or empty when nobody said."
)
class MetricMetadata:
    name: str
    type: MetricType | None  # type: ignore[valid-type]
    help: str
    unit: str

    @classmethod
    def of(cls, description: DomainMetricDescription) -> MetricMetadata:
        return cls(
            name=description.name,
            type=description.type,
            help=description.help,
            unit=description.unit,
        )


@strawberry.type
class ComponentHealth:
    name: str
    status: str
    latency_ms: float
    version: str
    detail: str


@strawberry.type(description="The RFC's HealthCheckDto.")
class SystemHealth:
    status: str
    version: str
    uptime_seconds: float
    components: list[ComponentHealth]

    @classmethod
    def of(cls, h: system_reads.HealthCheckDto) -> SystemHealth:
        return cls(
            status=h.status,
            version=h.version,
            uptime_seconds=h.uptime_seconds,
            components=[
                ComponentHealth(
                    name=c.name,
                    status=c.status,
                    latency_ms=c.latency_ms,
                    version=c.version,
                    detail=c.detail,
                )
                for c in h.components
            ],
        )


@strawberry.type(description="One changed field; a secret shows its name only (redacted).")
class AuditChange:
    field: str
    old: JSONValue | None
    new: JSONValue | None
    redacted: bool


@strawberry.type(description="The RFC's AuditLogDto.")
class AuditEntry:
    seq: int
    actor: str
    action: str
    project: str
    outcome: str
    timestamp: datetime
    request_id: str
    detail: JSONObject
    role: str = strawberry.field(description="The actor's role in the project when it acted.")
    target: JSONObject = strawberry.field(description="The ids the action touched.")
    changes: list[AuditChange]
    client: str = strawberry.field(description="The client's address, as the server saw it.")
    chain_index: int = strawberry.field(description="Its place in the project's hash chain.")
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, e: system_reads.AuditEntry) -> AuditEntry:
        return cls(
            seq=e.seq,
            actor=e.actor,
            action=e.action,
            project=e.project,
            outcome=e.outcome,
            timestamp=from_us(e.timestamp_us),
            request_id=e.request_id,
            detail=JSONObject(e.detail),
            role=e.role,
            target=JSONObject(e.target),
            changes=[
                AuditChange(
                    field=str(c.get("field", "")),
                    old=JSONValue(c.get("old")),
                    new=JSONValue(c.get("new")),
                    redacted=bool(c.get("redacted")),
                )
                for c in e.changes
            ],
            client=e.client,
            chain_index=e.chain_index,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
