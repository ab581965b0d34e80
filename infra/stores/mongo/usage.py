"""UsageStore on MongoDB: counted minutes as small documents, grouped here by the tags of
the series collection (the same groups DuckDB makes in SQL), the read log, and the rows
each tier holds."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from domain.usage.meter import MinuteCounts
from domain.usage.model import (
    USAGE_SOURCE,
    CounterRow,
    NewSeriesRow,
    SeriesUsageRow,
    StoredRows,
)
from infra.stores.mongo.dates import us_of_date
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["USAGE_INDEXES", "MongoUsageStore"]

Database = AsyncDatabase[dict[str, Any]]

# {p, m: minute (us), s: [series ids], n: [points]}: a project's minute as one instance
# counted it, in documents of at most SERIES_PER_DOCUMENT series (~1.5 MB, far below
# BSON's 16 MB): 100,000 series a minute are two inserts, not 100,000. They add up.
USAGE_SERIES = "usage_series"
# {p, m, f: figure, v: value}; a gauge's document has `_id` "<p>/<m>/<f>" (one a minute).
USAGE_COUNTERS = "usage_counters"
# {_id: "<p>/<metric>" hashed, p, n: metric, at: last read (us)}
USAGE_READS = "usage_reads"
# {_id: "series", m: the last minute whose vigil.usage.* series were written}
USAGE_PROGRESS = "usage_progress"

USAGE_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    USAGE_SERIES: [([("p", ASCENDING), ("m", ASCENDING)], {}), ([("m", ASCENDING)], {})],
    USAGE_COUNTERS: [([("p", ASCENDING), ("m", ASCENDING)], {}), ([("m", ASCENDING)], {})],
    USAGE_READS: [([("p", ASCENDING)], {})],
}
SERIES_PER_DOCUMENT = 50_000
_TIERS = {
    "raw": ("points", "m.p", "m.n"),
    "1m": ("rollup_1m", "p", "n"),
    "1h": ("rollup_1h", "p", "n"),
}


class MongoUsageStore:
    """The UsageStore port (domain.usage.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._db = db
        self._series_usage = db.get_collection(USAGE_SERIES, write_concern=concern)
        self._counters = db.get_collection(USAGE_COUNTERS, write_concern=concern)
        self._reads = db.get_collection(USAGE_READS, write_concern=concern)
        self._progress = db.get_collection(USAGE_PROGRESS, write_concern=concern)
        self._catalogue = db.get_collection("series")

    async def record(self, minutes: Sequence[MinuteCounts]) -> None:
        series_docs = []
        counter_docs = []
        reads: dict[tuple[str, str], int] = {}
        for minute in minutes:
            m = minute.minute_us
            for project, counts in minute.points.items():
                ids, points = list(counts), list(counts.values())
                for at in range(0, len(ids), SERIES_PER_DOCUMENT):
                    chunk = slice(at, at + SERIES_PER_DOCUMENT)
                    series_docs.append({"p": project, "m": m, "s": ids[chunk], "n": points[chunk]})
            counter_docs += [
                {"p": p, "m": m, "f": f, "v": float(v)} for (p, f), v in minute.counters.items()
            ]
            for key, at in minute.reads.items():
                reads[key] = max(at, reads.get(key, at))
        with unavailable("storing usage"):
            if series_docs:
                await self._series_usage.insert_many(series_docs, ordered=False)
            if counter_docs:
                await self._counters.insert_many(counter_docs, ordered=False)
            if reads:
                await self._reads.bulk_write(
                    [
                        UpdateOne(
                            {"_id": _read_id(p, n)},
                            {"$max": {"at": at}, "$set": {"p": p, "n": n}},
                            upsert=True,
                        )
                        for (p, n), at in reads.items()
                    ],
                    ordered=False,
                )

    async def set_gauges(self, minute_us: int, values: dict[tuple[str, str], float]) -> None:
        with unavailable("storing usage"):
            for (project, figure), value in values.items():
                doc = {"p": project, "m": minute_us, "f": figure, "v": float(value)}
                await self._counters.replace_one(
                    {"_id": f"{project}/{minute_us}/{figure}"}, doc, upsert=True
                )

    async def _tags(self, project: str) -> dict[int, tuple[dict[str, str], int, str]]:
        """series id -> (tags, first stored (us), source)."""
        found: dict[int, tuple[dict[str, str], int, str]] = {}
        with unavailable("reading the series catalogue"):
            async for doc in self._catalogue.find(
                {"p": project}, {"_id": 0, "s": 1, "tags": 1, "first_seen": 1, "source": 1}
            ):
                found[int(doc["s"])] = (
                    dict(doc.get("tags") or {}),
                    _us(doc.get("first_seen")),
                    str(doc.get("source", "")),
                )
        return found

    async def series_usage(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[SeriesUsageRow]:
        tags = await self._tags(project) if group_by else {}
        points: dict[tuple[int, tuple[str, ...]], int] = defaultdict(int)
        series: dict[tuple[int, tuple[str, ...]], set[int]] = defaultdict(set)
        with unavailable("reading usage"):
            async for doc in self._series_usage.find(
                {"p": project, "m": {"$gte": start_us, "$lt": end_us}}, {"_id": 0}
            ):
                bucket = int(doc["m"]) // step_us * step_us
                for sid, n in zip(doc["s"], doc["n"], strict=True):
                    known = tags.get(sid)
                    group = tuple((known[0] if known else {}).get(k, "") for k in group_by)
                    points[(bucket, group)] += int(n)
                    series[(bucket, group)].add(int(sid))
        return [
            SeriesUsageRow(bucket, group, n, len(series[(bucket, group)]))
            for (bucket, group), n in sorted(points.items())
        ]

    async def new_series(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[NewSeriesRow]:
        counts: dict[tuple[int, tuple[str, ...]], int] = defaultdict(int)
        for tags, first_us, source in (await self._tags(project)).values():
            if start_us <= first_us < end_us and source != USAGE_SOURCE:
                bucket = first_us // step_us * step_us
                counts[(bucket, tuple(tags.get(k, "") for k in group_by))] += 1
        return [NewSeriesRow(b, g, n) for (b, g), n in sorted(counts.items())]

    async def counters(
        self, project: str, start_us: int, end_us: int, step_us: int
    ) -> list[CounterRow]:
        totals: dict[tuple[int, str], float] = defaultdict(float)
        last: dict[tuple[int, str], tuple[int, float]] = {}
        with unavailable("reading usage"):
            async for doc in self._counters.find(
                {"p": project, "m": {"$gte": start_us, "$lt": end_us}}, {"_id": 0}
            ):
                minute = int(doc["m"])
                key = (minute // step_us * step_us, str(doc["f"]))
                value = float(doc["v"])
                totals[key] += value
                if key not in last or last[key][0] <= minute:
                    last[key] = (minute, value)
        return [CounterRow(b, f, t, last[(b, f)][1]) for (b, f), t in sorted(totals.items())]

    async def usage_projects(self, start_us: int, end_us: int) -> list[str]:
        window = {"m": {"$gte": start_us, "$lt": end_us}}
        with unavailable("reading usage"):
            found = set(await self._series_usage.distinct("p", window))
            found |= set(await self._counters.distinct("p", window))
        return sorted(str(p) for p in found)

    async def projects(self) -> list[str]:
        with unavailable("reading the series catalogue"):
            return sorted(str(p) for p in await self._catalogue.distinct("p"))

    async def catalogue(
        self, project: str, metric: str | None = None
    ) -> list[tuple[str, dict[str, str], int]]:
        query: dict[str, Any] = {"p": project}
        if metric is not None:
            query["n"] = metric
        with unavailable("reading the series catalogue"):
            return [
                (str(d["n"]), dict(d.get("tags") or {}), _us(d.get("first_seen")))
                async for d in self._catalogue.find(
                    query, {"_id": 0, "n": 1, "tags": 1, "first_seen": 1}
                )
            ]

    async def last_reads(self, project: str) -> dict[str, int]:
        with unavailable("reading the read log"):
            return {
                str(d["n"]): int(d["at"])
                async for d in self._reads.find({"p": project}, {"_id": 0, "n": 1, "at": 1})
            }

    async def stored_rows(self, project: str | None) -> list[StoredRows]:
        found: list[StoredRows] = []
        with unavailable("counting stored rows"):
            for tier, (collection, p_field, n_field) in _TIERS.items():
                match = [] if project is None else [{"$match": {p_field: project}}]
                group = {"_id": {"p": f"${p_field}", "n": f"${n_field}"}, "c": {"$sum": 1}}
                cursor = await self._db[collection].aggregate([*match, {"$group": group}])
                found += [
                    StoredRows(str(r["_id"]["n"]), tier, int(r["c"]), str(r["_id"]["p"]))
                    for r in await cursor.to_list()
                ]
        return sorted(found, key=lambda r: (r.project, r.tier, r.metric))

    async def series_written(self) -> int:
        with unavailable("reading usage"):
            found = await self._progress.find_one({"_id": "series"})
        return int(found["m"]) if found else 0

    async def mark_series_written(self, minute_us: int) -> None:
        with unavailable("storing usage"):
            await self._progress.update_one(
                {"_id": "series"}, {"$max": {"m": minute_us}}, upsert=True
            )

    async def forget_usage(self, before_us: int) -> int:
        gone = 0
        with unavailable("forgetting usage"):
            for collection in (self._series_usage, self._counters):
                result = await collection.delete_many({"m": {"$lt": before_us}})
                gone += result.deleted_count
        return gone


def _read_id(project: str, metric: str) -> str:
    return hashlib.blake2b(f"{project}\x1f{metric}".encode(), digest_size=16).hexdigest()


def _us(value: Any) -> int:
    """A stored date (naive UTC, as the client reads it) in microseconds."""
    if isinstance(value, datetime):
        return us_of_date(value)
    return int(value or 0)
