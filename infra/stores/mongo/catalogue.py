"""The series catalogue in memory, loaded from the `series` collection and kept fresh."""

from __future__ import annotations

import time
from typing import Any

from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import MetricType
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.mongo.schema import SERIES, Database

__all__ = ["MongoCatalogue", "series_document"]

_FIELDS = {"_id": 0, "p": 1, "s": 1, "n": 1, "tags": 1, "type": 1, "category": 1, "source": 1}


class MongoCatalogue:
    """The same `SeriesCatalogue` the DuckDB store uses, so both select the same series.

    Unlike a DuckDB file, a MongoDB database may have several Vigil instances writing
    to it, so the catalogue is not authoritative: before a read, a project's series are
    counted in the server (an index-only count) at most once per `refresh_seconds`, and
    reloaded when the count differs. Series are never deleted, so equal counts mean the
    same series. This instance's own series are added as soon as their batch is stored.
    """

    def __init__(self, db: Database, refresh_seconds: float) -> None:
        self.series = SeriesCatalogue()
        self._collection = db[SERIES]
        self._refresh = refresh_seconds
        self._checked: dict[str, float] = {}

    async def load(self) -> None:
        await self._load({})

    async def fresh(self, project: str) -> SeriesCatalogue:
        """The catalogue, with the project's series no older than `refresh_seconds`."""
        now = time.monotonic()
        if now - self._checked.get(project, -1e18) >= self._refresh:
            self._checked[project] = now
            stored = await self._collection.count_documents({"p": project})
            if stored != len(self.series.select(project, None)):
                await self._load({"p": project})
        return self.series

    def add(self, project: str, specs: list[SeriesSpec]) -> None:
        self.series.add(project, specs)

    async def _load(self, query: dict[str, Any]) -> None:
        async for doc in self._collection.find(query, _FIELDS):
            spec = SeriesSpec(
                int(doc["s"]),
                doc["n"],
                dict(doc["tags"]),
                MetricType(doc["type"]),
                doc["category"],
                doc["source"],
            )
            self.series.add(doc["p"], [spec])


def series_document(project: str, spec: SeriesSpec, first_seen: Any) -> dict[str, Any]:
    return {
        "p": project,
        "s": spec.id,
        "n": spec.name,
        "tags": dict(sorted(spec.tags.items())),
        "type": spec.type.value,
        "category": spec.category,
        "source": spec.source,
        "first_seen": first_seen,
    }
