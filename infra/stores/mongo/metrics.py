"""MetricStore on MongoDB: points in a time-series collection, series chosen in memory.

Every read keeps one point per (series, timestamp), the last written, and leaves out the
points of void batches (batches.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING

from domain.metrics.ingest import PointBatch, SeriesSpec
from domain.metrics.model import Metric, MetricDescription
from domain.metrics.ports import AppendResult, RawKeptSince
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesResult
from domain.metrics.series_limits import SeriesActivity
from domain.paging import Page
from domain.storage.tier_choice import Segment, choose_tier, percentile_plan, plan
from domain.storage.tiers import TIERS
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.mongo.aggregate import plan_chart, too_many_series
from infra.stores.mongo.catalogue import MongoCatalogue
from infra.stores.mongo.dates import MAX_US, MIN_US, date_of_us, us_of_date
from infra.stores.mongo.descriptions import MongoDescriptions
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.ingest import BatchWriter
from infra.stores.mongo.options import MongoOptions, ServerFeatures
from infra.stores.mongo.rollups import MongoRollupStore
from infra.stores.mongo.rollups.charts import TierChart
from infra.stores.mongo.schema import POINTS, SERIES, Database, rollup_collection

__all__ = ["MongoMetricStore"]

_POINT_FIELDS = {"_id": 0, "m.s": 1, "us": 1, "v": 1}
# Newest first. `t` leads, so that the server walks buckets in time order; `us` and the
# series id order the points of one millisecond as the contract does; of the points of
# one (series, timestamp), the last written comes first and is the one kept.
_NEWEST_FIRST = [("t", DESCENDING), ("us", DESCENDING), ("m.s", DESCENDING)]
_LAST_WRITE_FIRST = [("w", DESCENDING), ("b", DESCENDING)]


class MongoMetricStore:
    """Points and series of every project in one MongoDB database (see MongoDatabase)."""

    def __init__(
        self,
        db: Database,
        catalogue: MongoCatalogue,
        options: MongoOptions,
        features: ServerFeatures,
        close: Callable[[], Awaitable[None]],
        rollups: MongoRollupStore,
    ) -> None:
        self._db = db
        self._points = db[POINTS]
        # Set by the app once retention is built: percentiles older than the raw points
        # kept are read from the tiers' sketches (domain/storage/tier_choice.py).
        self.raw_kept: RawKeptSince | None = None
        self._catalogue = catalogue
        self._options = options
        self._features = features
        self._writer = BatchWriter(db, catalogue, options, rollups.marks)
        self._rollups = rollups
        self._descriptions = MongoDescriptions(db, options)
        self._page_size = 1000  # points fetched per round trip of a list
        self._close = close

    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        """All or nothing (docs/decisions/0004); returns once the write concern is met."""
        return await self._writer.append(batch, idempotency_key)

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None:
        if not MIN_US <= timestamp_us <= MAX_US:
            return None
        with unavailable("reading a point"):
            spec = (await self._series(project)).get(project, series_id)
            if spec is None:
                return None
            where: dict[str, Any] = {
                "m.p": project,
                "m.s": spec.id,
                "t": date_of_us(timestamp_us),
                "us": timestamp_us,
            }
            voids = self._voids(project, timestamp_us, timestamp_us)
            if voids:
                where["b"] = {"$nin": voids}
            cursor = self._points.find(where, _POINT_FIELDS).sort(_LAST_WRITE_FIRST).limit(1)
            docs = await cursor.to_list()
        return spec.metric(project, timestamp_us, docs[0]["v"]) if docs else None

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]:
        """Newest first, by (timestamp, series id) descending; `after` is a keyset cursor."""
        with unavailable("listing points"):
            specs = (await self._series(query.project)).select(
                query.project, query.name, query.matchers
            )
            if not specs or query.first <= 0:
                return Page([], False)
            refused = too_many_series(len(specs), self._options)
            if refused is not None:
                raise refused
            last = query.end_us - 1 if query.end_us is not None else None
            voids = self._voids(query.project, query.start_us, last)
            docs = await self._unique_points(_list_filter(query, specs, voids), query.first + 1)
        by_id = {s.id: s for s in specs}
        items = [by_id[d["m"]["s"]].metric(query.project, d["us"], d["v"]) for d in docs]
        return Page(items[: query.first], has_next_page=len(items) > query.first)

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult:
        with unavailable("aggregating points"):
            specs = (await self._series(query.project)).select(
                query.project, query.name, query.matchers
            )
            chart = plan_chart(query, specs, self._options)
            if isinstance(chart, SeriesResult):
                return chart
            voids = self._voids(query.project, query.start_us, query.end_us - 1)
            raw_since = None
            if query.aggregation.quantile is not None and self.raw_kept is not None:
                raw_since = await self.raw_kept.raw_kept_since_us(query.project, query.name)
            tier = choose_tier(
                query.start_us,
                query.end_us,
                query.step_us,
                percentile=query.aggregation.quantile is not None,
                raw_since_us=raw_since,
            )
            if query.use_tiers and not tier.is_raw:
                watermarks = await self._rollups.watermarks()
                if raw_since is not None:
                    segments = percentile_plan(
                        query.start_us, query.end_us, tier, watermarks, raw_since
                    )
                else:
                    segments = plan(query.start_us, query.end_us, tier, watermarks)
                if any(not segment.tier.is_raw for segment in segments):
                    return await self._tiered(query, chart.specs, chart.timestamps, segments, voids)
            cursor = await self._points.aggregate(chart.pipeline(voids), allowDiskUse=True)
            rows = await cursor.to_list()
        return chart.result(rows)

    async def _tiered(
        self,
        query: GetMetricSeriesQuery,
        specs: Sequence[SeriesSpec],
        timestamps: list[int],
        segments: list[Segment],
        voids: list[ObjectId],
    ) -> SeriesResult:
        """Whole buckets from the tiers, the rest from raw points (rollups/charts.py)."""
        chart = TierChart(
            query.project, specs, query.aggregation, query.group_by, timestamps, query.step_us
        )
        bins = query.aggregation.quantile is not None
        stats_rows: list[dict[str, Any]] = []
        bin_rows: list[dict[str, Any]] = []
        for segment in segments:
            plans: list[tuple[str, Callable[[bool], list[dict[str, Any]]]]]
            if segment.tier.is_raw:
                plans = [(POINTS, partial(chart.raw, segment.start_us, segment.end_us, voids))]
            else:
                dirty = await self._rollups.dirty_buckets(
                    segment.tier, query.project, segment.start_us, segment.end_us, chart.ids
                )
                table = rollup_collection(segment.tier.name)
                plans = [(table, partial(chart.tier, segment, dirty))]
                if dirty:
                    plans.append((POINTS, partial(chart.dirty_raw, segment, dirty, voids)))
            for collection, stages in plans:
                for wanted, rows in ((False, stats_rows), (True, bin_rows)):
                    if wanted and not bins:
                        continue
                    cursor = await self._db[collection].aggregate(stages(wanted), allowDiskUse=True)
                    rows.extend(await cursor.to_list())
        served = max((s.tier for s in segments), key=TIERS.index)
        return chart.result(stats_rows, bin_rows, served.name)

    # Names, tag keys and tag values come from the catalogue in memory.

    async def metric_names(self, project: str, prefix: str = "", limit: int = 1000) -> list[str]:
        with unavailable("listing metric names"):
            return (await self._series(project)).names(project, prefix, limit)

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]:
        with unavailable("listing tag keys"):
            return (await self._series(project)).tag_keys(project, name)

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]:
        with unavailable("listing tag values"):
            return (await self._series(project)).tag_values(project, key, name, limit)

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        await self._descriptions.describe(project, descriptions)

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        return await self._descriptions.descriptions(project, prefix, limit)

    async def series_activity(self, active_since_us: int, created_since_us: int) -> SeriesActivity:
        """One pass over the points of the window (points of void batches count too: the
        limits then err on the strict side), and the series created since."""
        active: dict[str, dict[int, int]] = {}
        created: dict[str, list[int]] = {}
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "t": {"$gte": date_of_us(active_since_us)},
                    "us": {"$gte": active_since_us},
                }
            },
            {"$group": {"_id": {"p": "$m.p", "s": "$m.s"}, "newest": {"$max": "$us"}}},
        ]
        with unavailable("reading the series activity"):
            async for doc in await self._points.aggregate(pipeline, allowDiskUse=True):
                key = doc["_id"]
                active.setdefault(key["p"], {})[int(key["s"])] = int(doc["newest"])
            query = {"first_seen": {"$gte": date_of_us(created_since_us)}}
            fields = {"_id": 0, "p": 1, "first_seen": 1}
            async for doc in self._db[SERIES].find(query, fields):
                created.setdefault(doc["p"], []).append(us_of_date(doc["first_seen"]))
        return SeriesActivity(active=active, created=created)

    async def ping(self) -> str:
        with unavailable("ping"):
            await self._db.command("ping")
        return f"MongoDB {self._features.version}"

    async def close(self) -> None:
        """Closes the whole database: the audit store shares its client."""
        await self._close()

    async def _series(self, project: str) -> SeriesCatalogue:
        return await self._catalogue.fresh(project)

    def _voids(self, project: str, lo_us: int | None, hi_us: int | None) -> list[ObjectId]:
        """The void batches with points in the range (the catalogue refreshed them)."""
        return self._catalogue.voids.overlapping(project, lo_us, hi_us)

    async def _unique_points(self, where: dict[str, Any], wanted: int) -> list[dict[str, Any]]:
        """The first `wanted` points newest first, one per (series, timestamp).

        The points of one (series, timestamp) come together, the last written first, so
        the others are skipped; the cursor is read a page at a time and closed early.
        """
        found: list[dict[str, Any]] = []
        previous: tuple[int, int] | None = None
        cursor = self._points.find(where, {**_POINT_FIELDS, "w": 1, "b": 1})
        # A page's worth in the first round trip: repeats of a key are rare.
        size = min(self._page_size, wanted + 1)
        cursor = cursor.sort(_NEWEST_FIRST + _LAST_WRITE_FIRST).batch_size(size)
        try:
            async for doc in cursor:
                key = (doc["us"], doc["m"]["s"])
                if key == previous:
                    continue
                previous = key
                found.append(doc)
                if len(found) >= wanted:
                    break
        finally:
            await cursor.close()
        return found


def _list_filter(
    query: GetMetricsListQuery, specs: list[SeriesSpec], voids: list[ObjectId]
) -> dict[str, Any]:
    ids = [s.id for s in specs]
    where: dict[str, Any] = {"m.p": query.project, "m.s": ids[0] if len(ids) == 1 else {"$in": ids}}
    if voids:
        where["b"] = {"$nin": voids}
    exact: dict[str, int] = {}
    lowest, highest = query.start_us, query.end_us
    if lowest is not None:
        exact["$gte"] = lowest
    if highest is not None:
        exact["$lt"] = highest
        highest -= 1
    if query.after is not None:
        after_us, after_sid = query.after
        exact["$lte"] = after_us
        where["$or"] = [{"us": {"$lt": after_us}}, {"m.s": {"$lt": after_sid}}]
        highest = after_us if highest is None else min(highest, after_us)
    if exact:
        where["us"] = exact
        # `t` (milliseconds) lets the server skip whole buckets.
        where["t"] = {
            **({"$gte": date_of_us(lowest)} if lowest is not None else {}),
            **({"$lte": date_of_us(highest)} if highest is not None else {}),
        }
    return where
