"""RollupStore on MongoDB (domain/storage/ports.py): tiers as ordinary collections filled
by the pipeline of pipeline.py, watermarks in `rollup_state`, dirty marks in `rollup_dirty`.

Advance, crash-safe: the target is published first (`to`), the pipeline `$merge`s the
range's rows, the rows of the range this run did not write are deleted, then the watermark
moves and `to` goes. Readers use `w` only, so a crash anywhere leaves them the old, whole
watermark; the next advance finishes the published `to` first (every step is idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DeleteOne
from pymongo.write_concern import WriteConcern

from domain.storage.rollups import RollupRow
from domain.storage.tiers import ROLLUP_TIERS, Tier
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.rollups.marks import RollupMarks
from infra.stores.mongo.rollups.pipeline import points_in, rollup_pipeline
from infra.stores.mongo.schema import (
    POINTS,
    ROLLUP_DIRTY,
    ROLLUP_STATE,
    VOIDS,
    Database,
    rollup_collection,
)

__all__ = ["MongoRollupStore", "row_of"]


def row_of(doc: dict[str, Any]) -> RollupRow:
    return RollupRow(
        series_id=int(doc["s"]),
        bucket_us=int(doc["b"]),
        count=int(doc["count"]),
        sum=float(doc["sum"]),
        min=float(doc["min"]),
        max=float(doc["max"]),
        first=float(doc["first"]),
        first_us=int(doc["first_us"]),
        last=float(doc["last"]),
        last_us=int(doc["last_us"]),
        increase=float(doc["inc"]),
        sketch_keys=tuple(int(k) for k in doc["keys"]),
        sketch_counts=tuple(int(c) for c in doc["counts"]),
    )


class MongoRollupStore:
    """The 1-minute and 1-hour tiers of every project (never RAW)."""

    def __init__(self, db: Database, options: MongoOptions, marks: RollupMarks) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._db = db
        self._points = db[POINTS]
        self._state = db.get_collection(ROLLUP_STATE, write_concern=concern)
        self._dirty = db.get_collection(ROLLUP_DIRTY, write_concern=concern)
        self._voids = db[VOIDS]
        self._tiers = {
            tier.name: db.get_collection(rollup_collection(tier.name), write_concern=concern)
            for tier in ROLLUP_TIERS
        }
        self.marks = marks

    async def watermarks(self) -> dict[str, int]:
        found = {tier.name: 0 for tier in ROLLUP_TIERS}
        with unavailable("reading the rollup watermarks"):
            async for doc in self._state.find({}):
                if doc["_id"] in found:
                    found[doc["_id"]] = int(doc.get("w", 0))
        return found

    async def advance(self, tier: Tier, to_us: int, *, slice_us: int) -> int:
        _check(tier)
        resolution = tier.resolution_us
        if slice_us < resolution or slice_us % resolution:
            raise ValueError("a slice is a positive multiple of the tier's resolution")
        with unavailable("rolling up points"):
            state = await self._state.find_one({"_id": tier.name}) or {}
            watermark = int(state.get("w", 0))
            pending = state.get("to")
            if pending is not None and int(pending) > watermark:  # a crashed advance: finish it
                await self._move(tier, watermark, int(pending))
                return int(pending)
            to_us -= to_us % resolution
            if to_us <= watermark:
                return watermark
            start = watermark
            if watermark == 0:
                oldest = await self._oldest_us()
                if oldest is None:  # nothing stored: nothing to roll up before to_us
                    await self._state.update_one(
                        {"_id": tier.name}, {"$set": {"w": to_us}}, upsert=True
                    )
                    self.marks.saw(tier.name, to_us)
                    return to_us
                start = min(oldest - oldest % resolution, to_us)
            end = min(to_us, start + slice_us)
            await self._move(tier, start, end)
            return end

    async def _oldest_us(self) -> int | None:
        """The timestamp of the oldest stored point (void or not: a lower start only costs
        an empty slice)."""
        cursor = self._points.find({}, {"_id": 0, "us": 1}).sort([("t", ASCENDING)]).limit(1)
        found = await cursor.to_list()
        return int(found[0]["us"]) if found else None

    async def _move(self, tier: Tier, watermark: int, to_us: int) -> int:
        # Published before any point is read: appends from now on mark what falls below.
        await self._state.update_one(
            {"_id": tier.name}, {"$set": {"w": watermark, "to": to_us}}, upsert=True
        )
        self.marks.saw(tier.name, to_us)
        written = await self._roll(tier, watermark, to_us)
        await self._state.update_one(
            {"_id": tier.name, "to": to_us}, {"$set": {"w": to_us}, "$unset": {"to": ""}}
        )
        return written

    async def roll_up(self, tier: Tier, start_us: int, end_us: int) -> int:
        _check(tier)
        if start_us % tier.resolution_us or end_us % tier.resolution_us:
            raise ValueError("a roll-up range starts and ends on bucket boundaries")
        if end_us <= start_us:
            return 0
        with unavailable("rolling up points"):
            return await self._roll(tier, start_us, end_us)

    async def _roll(self, tier: Tier, start_us: int, end_us: int) -> int:
        """Every bucket of [start_us, end_us), every project: merge, then drop the rows
        of those buckets this run did not write (their points are gone)."""
        run = ObjectId()
        match = {**points_in(start_us, end_us), **await self._without_voids(start_us, end_us)}
        rows = self._tiers[tier.name]
        await self._merge(match, tier, run)
        buckets = {"b": {"$gte": start_us, "$lt": end_us}}
        await rows.delete_many({**buckets, "run": {"$ne": run}})
        return int(await rows.count_documents({**buckets, "run": run}))

    async def _merge(self, match: dict[str, Any], tier: Tier, run: ObjectId) -> None:
        pipeline = rollup_pipeline(match, tier.resolution_us, rollup_collection(tier.name), run)
        cursor = await self._points.aggregate(pipeline, allowDiskUse=True)
        await cursor.to_list()  # a $merge answers no documents

    async def _without_voids(self, start_us: int, end_us: int) -> dict[str, Any]:
        """The filter leaving out the points of void batches with points in the range."""
        where = {"lo": {"$lt": end_us}, "hi": {"$gte": start_us}}
        ids = [doc["_id"] async for doc in self._voids.find(where, {"_id": 1})]
        return {"b": {"$nin": ids}} if ids else {}

    async def refresh_dirty(self, tier: Tier, limit: int, *, quiet_seconds: float = 0.0) -> int:
        """`quiet_seconds` is not used: every mark is recomputed (the port allows it)."""
        _check(tier)
        if limit <= 0:
            return 0
        with unavailable("refreshing dirty rollups"):
            # Only buckets under the finished watermark: those of an advance under way
            # are its to write (its clean-up deletes rows of its range it did not write),
            # and their marks wait for it to finish.
            state = await self._state.find_one({"_id": tier.name}) or {}
            below = {"$lte": int(state.get("w", 0)) - tier.resolution_us}
            marks = await self._dirty.find({"t": tier.name, "b": below}).limit(limit).to_list()
            by_project: dict[str, dict[int, list[int]]] = {}
            for mark in marks:
                by_project.setdefault(mark["p"], {}).setdefault(int(mark["b"]), []).append(
                    int(mark["s"])
                )
            for project, buckets in by_project.items():
                await self._refresh(tier, project, buckets)
            if marks:  # a mark bumped meanwhile (`g` moved) stays
                await self._dirty.bulk_write(
                    [DeleteOne({"_id": m["_id"], "g": m["g"]}) for m in marks], ordered=False
                )
        return len(marks)

    async def _refresh(self, tier: Tier, project: str, buckets: dict[int, list[int]]) -> None:
        run = ObjectId()
        resolution = tier.resolution_us
        lo, hi = min(buckets), max(buckets) + resolution
        match = {
            "m.p": project,
            "$or": [
                {"m.s": {"$in": ids}, **points_in(bucket, bucket + resolution)}
                for bucket, ids in sorted(buckets.items())
            ],
            **await self._without_voids(lo, hi),
        }
        await self._merge(match, tier, run)
        await self._tiers[tier.name].delete_many(
            {
                "p": project,
                "$or": [{"s": {"$in": ids}, "b": bucket} for bucket, ids in buckets.items()],
                "run": {"$ne": run},
            }
        )

    async def dirty_count(self, tier: Tier) -> int:
        _check(tier)
        with unavailable("counting dirty rollups"):
            return int(await self._dirty.count_documents({"t": tier.name}))

    async def dirty_buckets(
        self, tier: Tier, project: str, start_us: int, end_us: int, series_ids: Sequence[int]
    ) -> set[tuple[int, int]]:
        """The (series id, bucket) marks of these series in [start_us, end_us)."""
        where: dict[str, Any] = {
            "t": tier.name,
            "p": project,
            "s": {"$in": list(series_ids)},
            "b": {"$gte": start_us, "$lt": end_us},
        }
        with unavailable("reading dirty rollups"):
            found = self._dirty.find(where, {"_id": 0, "s": 1, "b": 1})
            return {(int(d["s"]), int(d["b"])) async for d in found}

    async def read_rollups(
        self,
        tier: Tier,
        project: str,
        start_us: int,
        end_us: int,
        series_ids: Sequence[int] | None = None,
    ) -> list[RollupRow]:
        _check(tier)
        where: dict[str, Any] = {"p": project, "b": {"$gte": start_us, "$lt": end_us}}
        if series_ids is not None:
            where["s"] = {"$in": list(series_ids)}
        with unavailable("reading rollups"):
            cursor = self._tiers[tier.name].find(where, {"_id": 0})
            docs = await cursor.sort([("s", ASCENDING), ("b", ASCENDING)]).to_list()
        return [row_of(doc) for doc in docs]

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        _check(tier)
        where: dict[str, Any] = {"p": project, "b": {"$lte": before_us - tier.resolution_us}}
        named: dict[str, Any] = {}
        if names is not None:
            named["$in"] = list(names)
        if exclude_names:
            named["$nin"] = list(exclude_names)
        if named:
            where["n"] = named
        with unavailable("expiring rollups"):
            deleted = await self._tiers[tier.name].delete_many(where)
            await self._dirty.delete_many({**where, "t": tier.name})
        return int(deleted.deleted_count)


def _check(tier: Tier) -> None:
    if tier not in ROLLUP_TIERS:
        raise ValueError(f"no rollups are kept for the tier {tier.name}")
