"""MetricStore on MongoDB: points in a time-series collection, series chosen in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymongo import DESCENDING

from domain.metrics.ingest import PointBatch, SeriesSpec
from domain.metrics.model import Metric, MetricDescription
from domain.metrics.ports import AppendResult
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesResult
from domain.paging import Page
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.mongo.aggregate import plan_chart
from infra.stores.mongo.catalogue import MongoCatalogue
from infra.stores.mongo.dates import MAX_US, MIN_US, date_of_us
from infra.stores.mongo.descriptions import MongoDescriptions
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.ingest import BatchWriter
from infra.stores.mongo.options import MongoOptions, ServerFeatures
from infra.stores.mongo.schema import POINTS, Database

__all__ = ["MongoMetricStore"]

_POINT_FIELDS = {"_id": 0, "m.s": 1, "us": 1, "v": 1}


class MongoMetricStore:
    """Points and series of every project in one MongoDB database (see MongoDatabase)."""

    def __init__(
        self,
        db: Database,
        catalogue: MongoCatalogue,
        options: MongoOptions,
        features: ServerFeatures,
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self._db = db
        self._points = db[POINTS]
        self._catalogue = catalogue
        self._options = options
        self._features = features
        self._writer = BatchWriter(db, catalogue, options)
        self._descriptions = MongoDescriptions(db, options)
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
            doc = await self._points.find_one(
                {"m.p": project, "m.s": spec.id, "t": date_of_us(timestamp_us), "us": timestamp_us},
                _POINT_FIELDS,
            )
        return spec.metric(project, timestamp_us, doc["v"]) if doc is not None else None

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]:
        """Newest first, by (timestamp, series id) descending; `after` is a keyset cursor."""
        with unavailable("listing points"):
            specs = (await self._series(query.project)).select(
                query.project, query.name, query.matchers
            )
            if not specs or query.first <= 0:
                return Page([], False)
            cursor = self._points.find(_list_filter(query, specs), _POINT_FIELDS)
            cursor = cursor.sort([("us", DESCENDING), ("m.s", DESCENDING)]).limit(query.first + 1)
            docs = await cursor.to_list()
        by_id = {s.id: s for s in specs}
        items = [by_id[d["m"]["s"]].metric(query.project, d["us"], d["v"]) for d in docs]
        return Page(items[: query.first], has_next_page=len(items) > query.first)

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult:
        with unavailable("aggregating points"):
            specs = (await self._series(query.project)).select(
                query.project, query.name, query.matchers
            )
            chart = plan_chart(query, specs, self._features, self._options)
            if isinstance(chart, SeriesResult):
                return chart
            cursor = await self._points.aggregate(chart.pipeline(), allowDiskUse=True)
            rows = await cursor.to_list()
        return chart.result(rows)

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

    async def ping(self) -> str:
        with unavailable("ping"):
            await self._db.command("ping")
        return f"MongoDB {self._features.version}"

    async def close(self) -> None:
        """Closes the whole database: the audit store shares its client."""
        await self._close()

    async def _series(self, project: str) -> SeriesCatalogue:
        return await self._catalogue.fresh(project)


def _list_filter(query: GetMetricsListQuery, specs: list[SeriesSpec]) -> dict[str, Any]:
    ids = [s.id for s in specs]
    where: dict[str, Any] = {"m.p": query.project, "m.s": ids[0] if len(ids) == 1 else {"$in": ids}}
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
