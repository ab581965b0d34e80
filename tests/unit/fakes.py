"""In-memory fakes of the domain's ports, small enough to read at a glance.

They follow the port contracts in domain/ports.py, not any real store's quirks: a batch is
stored whole or not at all, and an idempotency key already seen in a project stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from domain.events import Event, to_message
from domain.matchers import TagMatcher, matches_all
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.ingest import PointBatch, SeriesSpec
from domain.metrics.model import Aggregation, Metric, MetricDescription, encode_point_id
from domain.metrics.ports import AppendResult
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesData, SeriesResult
from domain.metrics.series_limits import SeriesActivity
from domain.paging import Page
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry

__all__ = [
    "NOW_US",
    "FakeAuditStore",
    "FakeClock",
    "FakeHealthCheck",
    "FakeMetricStore",
    "FakePublisher",
]

NOW_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now_us: int = NOW_US) -> None:
        self.current_us = now_us

    def now_us(self) -> int:
        return self.current_us

    def set(self, now_us: int) -> None:
        self.current_us = now_us

    def advance(self, seconds: float) -> None:
        self.current_us += round(seconds * 1_000_000)


class FakeMetricStore:
    """Points per project keyed by (series id, timestamp), plus the series catalogue."""

    def __init__(self) -> None:
        self.points: dict[str, dict[tuple[int, int], float]] = {}
        self.series: dict[str, dict[int, SeriesSpec]] = {}
        self.idempotency: dict[tuple[str, str], int] = {}
        self.described: dict[str, dict[str, MetricDescription]] = {}
        self.fail_next_append: Exception | None = None
        self.appends = 0  # batches actually written
        self.closed = False
        self.raw_kept = None  # every raw point kept: percentiles read them

    # -- writes -------------------------------------------------------------------------
    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        if idempotency_key is not None and (batch.project, idempotency_key) in self.idempotency:
            return AppendResult(self.idempotency[(batch.project, idempotency_key)], True)
        if self.fail_next_append is not None:
            error, self.fail_next_append = self.fail_next_append, None
            raise error
        # Build everything first, then commit in one step: all or nothing.
        rows = {
            (batch.series[s].id, ts): value
            for s, ts, value in zip(
                batch.series_index, batch.timestamps_us, batch.values, strict=True
            )
        }
        self.points.setdefault(batch.project, {}).update(rows)
        catalogue = self.series.setdefault(batch.project, {})
        for spec in batch.series:
            catalogue.setdefault(spec.id, spec)
        if idempotency_key is not None:
            self.idempotency[(batch.project, idempotency_key)] = len(batch)
        self.appends += 1
        return AppendResult(len(batch), False)

    # -- reads --------------------------------------------------------------------------
    def count(self, project: str | None = None) -> int:
        if project is not None:
            return len(self.points.get(project, {}))
        return sum(len(p) for p in self.points.values())

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None:
        value = self.points.get(project, {}).get((series_id, timestamp_us))
        if value is None:
            return None
        return self._metric(project, series_id, timestamp_us, value)

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]:
        rows = sorted(
            (
                (ts, sid, value)
                for (sid, ts), value in self.points.get(query.project, {}).items()
                if self._selected(query.project, sid, query.name, query.matchers)
                and (query.start_us is None or ts >= query.start_us)
                and (query.end_us is None or ts < query.end_us)
                and (query.after is None or (ts, sid) < query.after)
            ),
            reverse=True,
        )
        page = rows[: query.first]
        items = [self._metric(query.project, sid, ts, value) for ts, sid, value in page]
        return Page(items, has_next_page=len(rows) > query.first)

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult:
        """Per series, or every series as one group (`group_by=()`), and only the
        aggregations the tests use."""
        if query.group_by not in (None, ()):
            raise NotImplementedError("group_by tags are not faked")
        reducers: dict[Aggregation, Callable[[list[float]], float]] = {
            Aggregation.AVG: lambda v: sum(v) / len(v),
            Aggregation.MIN: min,
            Aggregation.MAX: max,
            Aggregation.SUM: sum,
            Aggregation.COUNT: lambda v: float(len(v)),
            Aggregation.LAST: lambda v: v[-1],
        }
        reduce = reducers[query.aggregation]
        step = query.step_us or (query.end_us - query.start_us)
        starts = list(range(query.start_us, query.end_us, step))
        result: list[SeriesData] = []
        chosen = [
            (sid, spec)
            for sid, spec in sorted(self.series.get(query.project, {}).items())
            if self._selected(query.project, sid, query.name, query.matchers)
        ]
        groups = [chosen] if query.group_by == () else [[c] for c in chosen]
        for members in groups:
            sids = {sid for sid, _ in members}
            buckets: list[list[float]] = [[] for _ in starts]
            for (point_sid, ts), value in sorted(
                self.points[query.project].items(), key=lambda item: item[0][1]
            ):
                if point_sid in sids and query.start_us <= ts < query.end_us:
                    buckets[(ts - query.start_us) // step].append(value)
            if any(buckets):
                values = [reduce(b) if b else None for b in buckets]
                tags = {} if query.group_by == () else dict(members[0][1].tags)
                result.append(SeriesData(tags, values))
        return SeriesResult(starts, result)

    async def metric_names(self, project: str, prefix: str = "", limit: int = 1000) -> list[str]:
        names = {s.name for s in self.series.get(project, {}).values()}
        return sorted(n for n in names if n.startswith(prefix))[:limit]

    async def describe(self, project: str, descriptions: Any) -> None:
        self.described.setdefault(project, {}).update({d.name: d for d in descriptions})

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        found = self.described.get(project, {})
        return [found[n] for n in sorted(found) if n.startswith(prefix)][:limit]

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]:
        return sorted({k for s in self._specs(project, name) for k in s.tags})

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]:
        return sorted({s.tags[key] for s in self._specs(project, name) if key in s.tags})[:limit]

    async def series_activity(self, active_since_us: int, created_since_us: int) -> SeriesActivity:
        """Newest stamps only: the fake keeps no creation times."""
        active: dict[str, dict[int, int]] = {}
        for project, rows in self.points.items():
            newest = active.setdefault(project, {})
            for sid, ts in rows:
                if ts >= active_since_us and ts > newest.get(sid, ts - 1):
                    newest[sid] = ts
        return SeriesActivity(active=active)

    async def ping(self) -> str:
        if self.closed:
            raise ConnectionError("store is closed")
        return "fake-1"

    async def close(self) -> None:
        self.closed = True

    # -- helpers ------------------------------------------------------------------------
    def _specs(self, project: str, name: str | None) -> list[SeriesSpec]:
        return [s for s in self.series.get(project, {}).values() if name in (None, s.name)]

    def _selected(
        self, project: str, sid: int, name: str | None, matchers: tuple[TagMatcher, ...]
    ) -> bool:
        spec = self.series[project][sid]
        return name in (None, spec.name) and matches_all(matchers, spec.tags)

    def _metric(self, project: str, sid: int, ts: int, value: float) -> Metric:
        spec = self.series[project][sid]
        return Metric(
            id=encode_point_id(sid, ts),
            project=project,
            name=spec.name,
            value=value,
            timestamp_us=ts,
            tags=dict(spec.tags),
            category=spec.category,
            type=spec.type,
            source=spec.source,
        )


class FakeAuditStore:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        seq = len(self.entries) + 1
        self.entries.append(
            AuditEntry(
                actor=entry.actor,
                action=entry.action,
                project=entry.project,
                outcome=entry.outcome,
                timestamp_us=entry.timestamp_us,
                request_id=entry.request_id,
                detail=dict(entry.detail),
                seq=seq,
            )
        )

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]:
        """Newest first; `after` is the seq of the last entry already seen."""
        hits = [
            e
            for e in reversed(self.entries)
            if e.project == query.project
            and query.actor in (None, e.actor)
            and query.action in (None, e.action)
            and (query.start_us is None or e.timestamp_us >= query.start_us)
            and (query.end_us is None or e.timestamp_us < query.end_us)
            and (query.after is None or e.seq < query.after)
        ]
        return hits[: query.first]


class FakePublisher:
    """Records every event as (channel, message), the way the bus carries it; raises
    `fail_with` instead when it is set."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: Exception | None = None

    async def publish(self, event: Event) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.published.append((event.channel(), to_message(event)))


class FakeHealthCheck:
    def __init__(
        self,
        name: str,
        version: str = "1.0",
        *,
        error: Exception | None = None,
        delay: float = 0.0,
    ) -> None:
        self.name = name
        self.version = version
        self.error = error
        self.delay = delay

    async def check(self) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.version


def cpu(value: float, host: str = "web-1", *, ago_ms: int = 0, **extra: Any) -> dict[str, Any]:
    """A raw cpu.load point, `ago_ms` before the fake clock's now."""
    return {
        "name": "cpu.load",
        "value": value,
        "tags": {"host": host},
        "timestamp": NOW_US // 1000 - ago_ms,
        **extra,
    }


async def ingest(bus: MessageBus, project: str, *points: dict[str, Any], **kw: Any) -> Any:
    return await bus.handle(CreateMetricsCommand(project, list(points), **kw), actor="alice")
