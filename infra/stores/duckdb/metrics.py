"""MetricStore on DuckDB: group-committed columnar appends, reads on cursors in threads."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from domain.errors import DataCorrupted
from domain.metrics.ingest import PointBatch, SeriesSpec
from domain.metrics.model import Metric, MetricDescription
from domain.metrics.ports import AppendResult, RawKeptSince
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesResult
from domain.metrics.series_limits import SeriesActivity
from domain.paging import Page
from infra.stores.duckdb.aggregate import aggregate
from infra.stores.duckdb.audit import DuckDBAuditStore
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.duckdb.descriptions import DuckDBDescriptions
from infra.stores.duckdb.ingest import BatchWriter
from infra.stores.duckdb.rollups import Watermarks
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["DuckDBMetricStore"]

logger = logging.getLogger("vigil.store")


class DuckDBMetricStore:
    """Points and series of every project in one DuckDB file (see DuckDBDatabase)."""

    def __init__(
        self, runner: Runner, catalogue: SeriesCatalogue, watermarks: Watermarks | None = None
    ) -> None:
        self._run = runner
        self._catalogue = catalogue
        self._watermarks = watermarks
        # Set by the app once retention is built: percentiles older than the raw points
        # kept are read from the tiers' sketches (domain/storage/tier_choice.py).
        self.raw_kept: RawKeptSince | None = None
        self._writer = BatchWriter(runner, catalogue, watermarks=watermarks)
        self._descriptions = DuckDBDescriptions(runner)

    def audit_with(self, audit: DuckDBAuditStore) -> None:
        """Commit a command's "ok" audit entry with its points (ingest.py)."""
        self._writer.audit_with(audit)

    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        """All or nothing; returns after the COMMIT (a synced write-ahead log) that stored it."""
        return await self._writer.append(batch, idempotency_key)

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None:
        spec = self._catalogue.get(project, series_id)
        if spec is None:
            return None
        return await self._run.read(self._get_point, project, spec, timestamp_us)

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]:
        return await self._run.read(self._list_points, query)

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult:
        raw_since = None
        if query.aggregation.quantile is not None and self.raw_kept is not None:
            raw_since = await self.raw_kept.raw_kept_since_us(query.project, query.name)
        return await self._run.read(aggregate, self._catalogue, query, self._watermarks, raw_since)

    # The catalogue answers these from memory; a scan of a large project's series still
    # takes milliseconds, so it runs on a reader thread rather than on the event loop.

    async def metric_names(self, project: str, prefix: str = "", limit: int = 1000) -> list[str]:
        return await self._run.read(lambda _: self._catalogue.names(project, prefix, limit))

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]:
        return await self._run.read(lambda _: self._catalogue.tag_keys(project, name))

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]:
        return await self._run.read(lambda _: self._catalogue.tag_values(project, key, name, limit))

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        await self._descriptions.describe(project, descriptions)

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        return await self._descriptions.descriptions(project, prefix, limit)

    async def series_activity(self, active_since_us: int, created_since_us: int) -> SeriesActivity:
        """A damaged block among the recent points must not stop start-up: then the active
        series are counted from the points that arrive (the series table still says which
        series are new), and the damage is in the store's health (faults.py)."""
        created = await self._run.read(_series_created, created_since_us)
        try:
            active = await self._run.read(_series_active, active_since_us)
        except DataCorrupted as exc:
            logger.error("series limits start without the active series: %s", exc.message)
            active = {}
        return SeriesActivity(active=active, created=created)

    async def ping(self) -> str:
        """The version; down while the database is being reopened, degraded while writes
        fail for lack of space or after damage was found (faults.py)."""
        faults = self._run.faults
        if faults.invalidated:
            faults.check()
        version = await self._run.read(_version)
        faults.check()
        return version

    async def close(self) -> None:
        """Closes the whole database: the audit store shares its file and threads."""
        await self._run.close()

    def _get_point(
        self, cur: Cursor, project: str, spec: SeriesSpec, timestamp_us: int
    ) -> Metric | None:
        rows = cur.execute(
            "SELECT value FROM points WHERE series_id = $sid AND ts = make_timestamp($ts) LIMIT 1",
            {"sid": spec.id, "ts": timestamp_us},
        ).fetchall()
        return spec.metric(project, timestamp_us, rows[0][0]) if rows else None

    def _list_points(self, cur: Cursor, query: GetMetricsListQuery) -> Page[Metric]:
        """Newest first, by (timestamp, series id) descending; `after` is a keyset cursor."""
        specs = self._catalogue.select(query.project, query.name, query.matchers)
        if not specs or query.first <= 0:
            return Page([], False)
        params: dict[str, object] = {"limit": query.first + 1}
        if len(specs) == 1:
            where = ["series_id = $sid"]
            params["sid"] = specs[0].id
        else:
            ids = np.fromiter((s.id for s in specs), dtype=np.int64, count=len(specs))
            cur.register("sel", {"sid": ids})
            where = ["series_id IN (SELECT sid FROM sel)"]
        if query.start_us is not None:
            where.append("ts >= make_timestamp($start)")
            params["start"] = query.start_us
        if query.end_us is not None:
            where.append("ts < make_timestamp($end)")
            params["end"] = query.end_us
        if query.after is not None:
            where.append(
                "ts <= make_timestamp($after_ts)"
                " AND (ts < make_timestamp($after_ts) OR series_id < $after_sid)"
            )
            params["after_ts"], params["after_sid"] = query.after
        try:
            rows = cur.execute(
                f"SELECT series_id, epoch_us(ts), value FROM points WHERE {' AND '.join(where)}"
                " ORDER BY ts DESC, series_id DESC LIMIT $limit",
                params,
            ).fetchall()
        finally:
            if len(specs) > 1:
                cur.unregister("sel")
        by_id = {s.id: s for s in specs}
        items = [by_id[sid].metric(query.project, ts, value) for sid, ts, value in rows]
        return Page(items[: query.first], has_next_page=len(items) > query.first)


def _series_active(cur: Cursor, active_since_us: int) -> dict[str, dict[int, int]]:
    """Scans only the row groups whose newest `ts` is in the window (their min/max)."""
    active: dict[str, dict[int, int]] = {}
    rows = cur.execute(
        "SELECT s.project, p.series_id, epoch_us(max(p.ts)) FROM points p"
        " JOIN series s ON s.id = p.series_id"
        " WHERE p.ts >= make_timestamp($since) GROUP BY s.project, p.series_id",
        {"since": active_since_us},
    ).fetchall()
    for project, sid, newest in rows:
        active.setdefault(project, {})[sid] = newest
    return active


def _series_created(cur: Cursor, created_since_us: int) -> dict[str, list[int]]:
    created: dict[str, list[int]] = {}
    rows = cur.execute(
        "SELECT project, epoch_us(first_seen) FROM series"
        " WHERE first_seen >= make_timestamp($since)",
        {"since": created_since_us},
    ).fetchall()
    for project, stamp in rows:
        created.setdefault(project, []).append(stamp)
    return created


def _version(cur: Cursor) -> str:
    (one, version), *_ = cur.execute("SELECT 1, version()").fetchall()
    if one != 1:
        raise RuntimeError("DuckDB did not answer SELECT 1")
    return f"DuckDB {version}"
