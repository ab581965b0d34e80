"""The series catalogue and the void batches in memory, kept fresh across instances.

Several Vigil instances may write to one database, so what this instance holds in memory
is not authoritative. Each project has a change document in `counters`
(`{_id: "catalogue/<project>", s, v}`): a writer bumps `s` after storing new series and
`v` after marking a batch void. Before a read, at most once per `refresh_seconds`, the
project's document is read (one small read, whatever the number of series); when `s`
moved, the series first seen in the last `lookback_seconds` are fetched; when `v` moved,
the project's void batches are. A writer that died between its write and its bump is
caught by the reconciliation every `reconcile_seconds` (a count of the project's
series, and its void batches again). Reads use read concern "majority": what a failover
rolls back is never loaded (this instance's own writes are majority-acknowledged).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.read_concern import ReadConcern

from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import MetricType
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.mongo.batches import VoidBatch, Voids
from infra.stores.mongo.dates import now
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import COUNTERS, SERIES, VOIDS, Database

__all__ = ["MongoCatalogue", "series_document"]

_FIELDS = {"_id": 0, "p": 1, "s": 1, "n": 1, "tags": 1, "type": 1, "category": 1, "source": 1}
_MAJORITY = ReadConcern("majority")


@dataclass(slots=True)
class _Seen:
    """What this instance last read of a project."""

    checked: float = -1e18  # monotonic time of the last look at the change document
    reconciled: float = -1e18
    series: int = -1  # the change document's counters then
    voids: int = -1
    fetched_at: Any = None  # wall time of the last fetch of series (a datetime)


class MongoCatalogue:
    """The same `SeriesCatalogue` the DuckDB store uses, so both select the same series,
    and the void batches of each project (batches.py)."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        self.series = SeriesCatalogue()
        self.voids = Voids()
        self._series = db.get_collection(SERIES, read_concern=_MAJORITY)
        self._voids = db.get_collection(VOIDS, read_concern=_MAJORITY)
        self._counters = db.get_collection(COUNTERS, read_concern=_MAJORITY)
        self._options = options
        self._seen: dict[str, _Seen] = {}
        self._loaded_at = now()

    async def load(self) -> None:
        """Every project's series and void batches, at open."""
        started = now()
        by_project: dict[str, list[SeriesSpec]] = {}
        async for doc in self._series.find({}, _FIELDS):
            by_project.setdefault(doc["p"], []).append(_spec(doc))
        for project, specs in by_project.items():
            self.series.replace(project, specs)
        voids: dict[str, list[VoidBatch]] = {}
        async for doc in self._voids.find({}):
            voids.setdefault(doc["p"], []).append(VoidBatch.of(doc))
        for project, batches in voids.items():
            self.voids.replace(project, batches)
        self._loaded_at = started

    async def fresh(self, project: str) -> SeriesCatalogue:
        """The catalogue, with the project's series and void batches no older than
        `refresh_seconds` (reads of other instances' writes; this instance's own are
        added as they are stored)."""
        seen = self._seen.get(project)
        if seen is None:
            seen = self._seen[project] = _Seen(fetched_at=self._loaded_at)
        clock = time.monotonic()
        if clock - seen.checked < self._options.catalogue_refresh_seconds:
            return self.series
        seen.checked = clock
        if clock - seen.reconciled >= self._options.catalogue_reconcile_seconds:
            seen.reconciled = clock
            await self._reconcile(project, seen)
            return self.series
        doc = await self._counters.find_one({"_id": change_id(project)}) or {}
        if int(doc.get("s", 0)) != seen.series:
            seen.series = int(doc.get("s", 0))
            await self._fetch_recent(project, seen)
        if int(doc.get("v", 0)) != seen.voids:
            seen.voids = int(doc.get("v", 0))
            await self._fetch_voids(project)
        return self.series

    def add(self, project: str, specs: list[SeriesSpec]) -> None:
        self.series.add(project, specs)

    async def _fetch_recent(self, project: str, seen: _Seen) -> None:
        """Series first seen since the last fetch, less the clocks' and writes' margin."""
        started = now()
        since = seen.fetched_at - timedelta(seconds=self._options.catalogue_lookback_seconds)
        query = {"p": project, "first_seen": {"$gte": since}}
        self.series.add(project, [_spec(doc) async for doc in self._series.find(query, _FIELDS)])
        seen.fetched_at = started

    async def _fetch_voids(self, project: str) -> None:
        batches = [VoidBatch.of(doc) async for doc in self._voids.find({"p": project})]
        self.voids.replace(project, batches)

    async def _reconcile(self, project: str, seen: _Seen) -> None:
        """Counters first, so that a bump after this read is noticed at the next refresh;
        then the whole project again if its count of series differs."""
        started = now()
        doc = await self._counters.find_one({"_id": change_id(project)}) or {}
        seen.series, seen.voids = int(doc.get("s", 0)), int(doc.get("v", 0))
        stored = await self._series.count_documents({"p": project})
        if stored != self.series.count(project):
            specs = [_spec(d) async for d in self._series.find({"p": project}, _FIELDS)]
            self.series.replace(project, specs)
        seen.fetched_at = started
        await self._fetch_voids(project)


def change_id(project: str) -> str:
    """The `_id` of a project's change document in `counters`."""
    return f"catalogue/{project}"


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


def _spec(doc: dict[str, Any]) -> SeriesSpec:
    return SeriesSpec(
        int(doc["s"]),
        doc["n"],
        dict(doc["tags"]),
        MetricType(doc["type"]),
        doc["category"],
        doc["source"],
    )
