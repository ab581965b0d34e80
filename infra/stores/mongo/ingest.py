"""The append path: one unordered insert_many per batch; a failed batch is made void, never
deleted from the time-series collection (0021)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo.errors import BulkWriteError, PyMongoError
from pymongo.write_concern import WriteConcern

from domain.errors import Unavailable
from domain.metrics.ingest import PointBatch
from domain.metrics.ports import AppendResult
from infra.stores.mongo.batches import VoidBatch, WriteStamps, void_document
from infra.stores.mongo.catalogue import MongoCatalogue, change_id, series_document
from infra.stores.mongo.dates import MAX_US, MIN_US, date_of_us, now
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.keys import Claim, KeyClaims
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.rollups.marks import RollupMarks
from infra.stores.mongo.schema import COUNTERS, KEYS, POINTS, SERIES, VOIDS, Database

__all__ = ["BatchWriter", "prepare"]

log = logging.getLogger("vigil.store.mongo")

_DUPLICATE_KEY = 11000


@dataclass(slots=True)
class _Prepared:
    """A batch checked and turned into columns ready for BSON; nothing written yet."""

    batch: PointBatch
    series_index: list[int]
    timestamps_us: list[int]
    dates: list[datetime]
    values: list[float]
    lo_us: int
    hi_us: int

    @property
    def project(self) -> str:
        return self.batch.project

    def documents(self, batch_id: ObjectId, stamp: int) -> list[dict[str, Any]]:
        metas = [
            {"p": self.project, "n": s.name, "s": s.id, "tags": dict(sorted(s.tags.items()))}
            for s in self.batch.series
        ]
        return [
            {"t": t, "m": metas[i], "us": us, "v": v, "b": batch_id, "w": stamp}
            for i, t, us, v in zip(
                self.series_index, self.dates, self.timestamps_us, self.values, strict=True
            )
        ]

    def void(self, batch_id: ObjectId) -> VoidBatch:
        return VoidBatch(batch_id, self.lo_us, self.hi_us)

    def points(self) -> list[tuple[int, str, int]]:
        """(series id, metric name, us) of every point."""
        series = self.batch.series
        return [
            (series[i].id, series[i].name, us)
            for i, us in zip(self.series_index, self.timestamps_us, strict=True)
        ]


def prepare(batch: PointBatch) -> _Prepared:
    """Check what BSON needs; a malformed batch fails here, before anything is written."""
    index = np.asarray(batch.series_index, dtype=np.int64)
    stamps = np.asarray(batch.timestamps_us, dtype=np.int64)
    values = np.asarray(batch.values, dtype=np.float64)
    if not len(index) == len(stamps) == len(values):
        raise ValueError("a batch needs as many series indexes, timestamps and values")
    if len(index) and (index.min() < 0 or index.max() >= len(batch.series)):
        raise IndexError("a point names a series the batch does not hold")
    if len(stamps) and (stamps.min() < MIN_US or stamps.max() > MAX_US):
        raise ValueError("a timestamp is outside the years 1 to 9999")
    lo, hi = (int(stamps.min()), int(stamps.max())) if len(stamps) else (MIN_US, MIN_US)
    keep = _last_of_each_point(index, stamps)
    if keep is not None:
        index, stamps, values = index[keep], stamps[keep], values[keep]
    dates = (stamps // 1000).astype("datetime64[ms]").tolist()
    return _Prepared(batch, index.tolist(), stamps.tolist(), dates, values.tolist(), lo, hi)


def _last_of_each_point(index: np.ndarray, stamps: np.ndarray) -> np.ndarray | None:
    """Positions to keep when the batch names a (series, timestamp) twice (the last of
    each, as a later write would win), or None when it does not. Its points share one
    write stamp, so readers could not tell which came last."""
    if len(index) < 2:
        return None
    order = np.lexsort((np.arange(len(index)), stamps, index))
    same = (index[order][1:] == index[order][:-1]) & (stamps[order][1:] == stamps[order][:-1])
    if not same.any():
        return None
    return np.sort(order[np.append(~same, True)])


class BatchWriter:
    """Stores batches all or nothing as readers see them.

    Transactions cannot write to time-series collections, so a batch is one unordered
    `insert_many` acknowledged with the configured write concern. Every point carries
    its batch's id and a write stamp (batches.py). If the write fails or its outcome is
    unknown, the batch is marked void: readers leave its points out, including any the
    server applies after the client gave up. Storing a (series, timestamp) again is a
    new write that readers prefer, so a retried batch stores nothing twice.
    """

    def __init__(
        self,
        db: Database,
        catalogue: MongoCatalogue,
        options: MongoOptions,
        marks: RollupMarks,
    ) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._points = db.get_collection(POINTS, write_concern=concern)
        self._series = db.get_collection(SERIES, write_concern=concern)
        self._voids = db.get_collection(VOIDS, write_concern=concern)
        self._counters = db.get_collection(COUNTERS, write_concern=concern)
        self._claims = KeyClaims(db.get_collection(KEYS, write_concern=concern), options)
        self._catalogue = catalogue
        self._marks = marks
        self._stamps = WriteStamps()
        # Appends under way in this process, by (project, key): a second append with the
        # key waits for the first and answers its count, without asking the server.
        self._running: dict[tuple[str, str], asyncio.Future[int | None]] = {}
        self._cleanups: set[asyncio.Task[None]] = set()

    async def append(self, batch: PointBatch, key: str | None) -> AppendResult:
        prepared = prepare(batch)
        if key is None:
            batch_id = ObjectId()
            try:
                with unavailable("storing a batch"):
                    await self._store(prepared, batch_id)
            except BaseException:
                await self._finally(self._void(prepared.project, prepared.void(batch_id), prepared))
                raise
            return AppendResult(len(batch), replayed=False)
        slot = (batch.project, key)
        while (running := self._running.get(slot)) is not None:
            await asyncio.wait([running])
            count = running.result()
            if count is not None:
                return AppendResult(count, replayed=True)
            # The first attempt failed: this one may claim the key now.
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._running[slot] = done
        outcome: int | None = None
        try:
            with unavailable("storing a batch"):
                result = await self._append_keyed(prepared, key)
            outcome = result.accepted
            return result
        finally:
            del self._running[slot]
            done.set_result(outcome)

    async def _append_keyed(self, prepared: _Prepared, key: str) -> AppendResult:
        batch_id = ObjectId()
        claim = await self._claims.claim(
            prepared.project, key, prepared.void(batch_id), len(prepared.batch)
        )
        if isinstance(claim, AppendResult):
            return claim
        try:
            for old in claim.abandoned:  # the writers this one took over from
                if not await self._void(prepared.project, old):
                    raise Unavailable("MongoDB: could not set aside an unfinished batch")
            await self._store(prepared, batch_id)
            finished = await self._claims.finish(claim, batch_id)
        except BaseException:
            await self._finally(self._abandon(prepared, batch_id, claim))
            raise
        if not finished:  # judged stale and taken over by another writer
            await self._finally(self._void(prepared.project, prepared.void(batch_id), prepared))
            raise Unavailable("MongoDB: the batch took too long to store; retry with its key")
        return AppendResult(len(prepared.batch), replayed=False)

    async def _store(self, prepared: _Prepared, batch_id: ObjectId) -> None:
        """Points first, then the series they introduce: readers find points only
        through the catalogue, so a batch's points show once its series are stored.
        Around the points, the rollup buckets they make dirty (rollups/marks.py)."""
        documents = prepared.documents(batch_id, self._stamps.next())
        if documents:
            await self._mark(prepared, {}, self._marks.seen())
            before = self._marks.seen()
            await self._points.insert_many(documents, ordered=False)
            after = await self._marks.load()
            if after != before:
                await self._mark(prepared, before, after)
        project = prepared.project
        fresh = self._catalogue.series.unknown(project, prepared.batch.series)
        if not fresh:
            return
        first_seen = now()
        try:
            await self._series.insert_many(
                [series_document(project, spec, first_seen) for spec in fresh], ordered=False
            )
        except BulkWriteError as exc:  # another batch stored some of them first: fine
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(
                e.get("code") != _DUPLICATE_KEY for e in errors
            ):
                raise
        await self._bump(project, "s")
        self._catalogue.add(project, fresh)

    async def _mark(
        self, prepared: _Prepared, floor: dict[str, int], ceiling: dict[str, int]
    ) -> None:
        """Mark the buckets of the batch's points stamped in [floor, ceiling) per tier."""
        if ceiling and prepared.lo_us >= max(ceiling.values()):
            return  # the usual batch: every point is newer than the watermarks
        await self._marks.mark(
            prepared.project,
            prepared.batch.series,
            prepared.series_index,
            prepared.timestamps_us,
            floor,
            ceiling,
        )

    async def _abandon(self, prepared: _Prepared, batch_id: ObjectId, claim: Claim) -> None:
        """Void the batch, then free its key: a retry may claim the key only once nothing
        of this batch can become visible. If the server cannot be reached, the key stays
        claimed; a retry here takes it over at once, elsewhere once it is stale."""
        if await self._void(prepared.project, prepared.void(batch_id), prepared):
            try:
                await self._claims.release(claim, batch_id)
                return
            except PyMongoError as exc:
                log.warning("MongoDB: could not free an idempotency key: %s", type(exc).__name__)
        self._claims.give_up(claim, batch_id)

    async def _void(
        self, project: str, batch: VoidBatch, prepared: _Prepared | None = None
    ) -> bool:
        """Mark a batch void (idempotent); False if the marker could not be written.
        Then mark dirty the rollup buckets its points may have reached (a rollup may have
        read points the server applied before the batch was void)."""
        try:
            await self._voids.update_one(
                {"_id": batch.id}, {"$setOnInsert": void_document(project, batch)}, upsert=True
            )
            self._catalogue.voids.add(project, batch)
            await self._bump(project, "v")
        except PyMongoError as exc:
            log.warning("MongoDB: could not set a failed batch aside: %s", type(exc).__name__)
            return False
        try:
            if prepared is not None:
                points = prepared.points()
            else:
                points = await self._stored(project, batch)
        except PyMongoError as exc:
            log.warning("MongoDB: could not read a void batch's points: %s", type(exc).__name__)
            return True
        await self._marks.mark_points(project, points)
        return True

    async def _stored(self, project: str, batch: VoidBatch) -> list[tuple[int, str, int]]:
        """(series id, name, us) of the points stored under a batch id (a writer taken
        over: its points are not known here)."""
        where = {
            "m.p": project,
            "b": batch.id,
            "t": {"$gte": date_of_us(batch.lo_us), "$lte": date_of_us(batch.hi_us)},
        }
        found = self._points.find(where, {"_id": 0, "m.s": 1, "m.n": 1, "us": 1})
        return [(int(d["m"]["s"]), str(d["m"]["n"]), int(d["us"])) async for d in found]

    async def _bump(self, project: str, field: str) -> None:
        """Tell the other instances that the project's series or void batches changed."""
        await self._counters.update_one(
            {"_id": change_id(project)}, {"$inc": {field: 1}}, upsert=True
        )

    async def _finally(self, cleanup: Coroutine[Any, Any, object]) -> None:
        """Run a cleanup to its end even if the caller is cancelled (again) meanwhile."""
        task: asyncio.Task[None] = asyncio.ensure_future(_discard(cleanup))
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        await asyncio.shield(task)


async def _discard(cleanup: Coroutine[Any, Any, object]) -> None:
    await cleanup
