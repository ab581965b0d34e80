"""The append path: one unordered insert_many per batch, idempotency keys claimed first."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from domain.errors import Unavailable
from domain.metrics.ingest import PointBatch
from domain.metrics.ports import AppendResult
from infra.stores.mongo.catalogue import MongoCatalogue, series_document
from infra.stores.mongo.dates import MAX_US, MIN_US, now
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import KEYS, POINTS, SERIES, Database

__all__ = ["BatchWriter"]

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

    @property
    def project(self) -> str:
        return self.batch.project

    def documents(self, batch_id: ObjectId) -> list[dict[str, Any]]:
        metas = [
            {"p": self.project, "n": s.name, "s": s.id, "tags": dict(sorted(s.tags.items()))}
            for s in self.batch.series
        ]
        return [
            {"t": t, "m": metas[i], "us": us, "v": v, "b": batch_id}
            for i, t, us, v in zip(
                self.series_index, self.dates, self.timestamps_us, self.values, strict=True
            )
        ]

    def points_of(self, batch_id: ObjectId) -> dict[str, Any]:
        """A filter for this batch's points that the (project, series, time) index serves."""
        return {
            "m.p": self.project,
            "m.s": {"$in": sorted({s.id for s in self.batch.series})},
            "t": {"$gte": min(self.dates), "$lte": max(self.dates)},
            "b": batch_id,
        }


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
    dates = (stamps // 1000).astype("datetime64[ms]").tolist()
    return _Prepared(batch, index.tolist(), stamps.tolist(), dates, values.tolist())


class BatchWriter:
    """Stores batches all or nothing as far as MongoDB allows without transactions.

    Transactions cannot write to time-series collections, so a batch is one unordered
    `insert_many` acknowledged with the configured write concern, and every point
    carries its batch's id (`b`) so that a batch that failed can be deleted again.
    With an idempotency key, the key is claimed first (a unique index on project and
    key) and marked done after the points; see docs/decisions/0004 for the guarantee.
    """

    def __init__(self, db: Database, catalogue: MongoCatalogue, options: MongoOptions) -> None:
        concern = WriteConcern(
            w=options.write_concern_w,
            j=options.write_concern_j,
            wtimeout=options.write_timeout_ms,
        )
        self._points = db.get_collection(POINTS, write_concern=concern)
        self._series = db.get_collection(SERIES, write_concern=concern)
        self._keys = db.get_collection(KEYS, write_concern=concern)
        self._catalogue = catalogue
        self._options = options
        # Appends under way in this process, by (project, key): a second append with the
        # key waits for the first and answers its count, without asking the server.
        self._running: dict[tuple[str, str], asyncio.Future[int | None]] = {}

    async def append(self, batch: PointBatch, key: str | None) -> AppendResult:
        prepared = prepare(batch)
        if key is None:
            batch_id = ObjectId()
            with unavailable("storing a batch"):
                try:
                    await self._store(prepared, batch_id)
                except BaseException:
                    await self._undo(prepared, batch_id)
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
        claim = await self._claim(prepared, key, batch_id)
        if isinstance(claim, AppendResult):
            return claim
        try:
            await self._store(prepared, batch_id)
            marked = await self._keys.update_one(
                {"_id": claim, "b": batch_id}, {"$set": {"done": True}}
            )
        except BaseException:
            await self._undo(prepared, batch_id, claim)
            raise
        if marked.matched_count != 1:  # judged stale and taken over by another writer
            await self._undo(prepared, batch_id)
            raise Unavailable("MongoDB: the batch took too long to store; retry with its key")
        return AppendResult(len(prepared.batch), replayed=False)

    async def _claim(self, prepared: _Prepared, key: str, batch_id: ObjectId) -> Any:
        """The claimed key's `_id`, or the first batch's answer when the key is used."""
        project, count = prepared.project, len(prepared.batch)
        deadline = time.monotonic() + self._options.key_wait_seconds
        stale = timedelta(seconds=self._options.key_stale_seconds)
        pause = 0.01
        while time.monotonic() < deadline:
            claim = {"_id": batch_id, "p": project, "k": key, "n": count, "b": batch_id}
            try:
                await self._keys.insert_one(claim | {"done": False, "at": now()})
                return batch_id
            except DuplicateKeyError:
                pass
            found = await self._keys.find_one({"p": project, "k": key})
            if found is None:
                continue  # released since: claim it again
            if found["done"]:
                return AppendResult(int(found["n"]), replayed=True)
            if now() - found["at"] > stale and await self._take_over(found, count, batch_id):
                return found["_id"]
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
        raise Unavailable("MongoDB: a batch with this idempotency key is still being stored")

    async def _take_over(self, found: dict[str, Any], count: int, batch_id: ObjectId) -> bool:
        """A claim whose writer is presumed dead: delete what it stored, then own it."""
        taken = await self._keys.find_one_and_update(
            {"_id": found["_id"], "b": found["b"], "done": False},
            {"$set": {"b": batch_id, "n": count, "at": now()}},
        )
        if taken is None:
            return False
        log.warning("MongoDB: took over a stale idempotency key of project %s", found["p"])
        await self._points.delete_many({"m.p": found["p"], "b": found["b"]})
        return True

    async def _store(self, prepared: _Prepared, batch_id: ObjectId) -> None:
        """Points first, then the series they introduce: readers find points only
        through the catalogue, so a batch's points show once its series are stored."""
        documents = prepared.documents(batch_id)
        if documents:
            await self._points.insert_many(documents, ordered=False)
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
        self._catalogue.add(project, fresh)

    async def _undo(self, prepared: _Prepared, batch_id: ObjectId, claim: Any = None) -> None:
        """Best effort: delete the batch's points, then release its key. If the server
        cannot be reached, the key stays claimed and a retry takes it over once stale."""
        try:
            if len(prepared.batch):
                await self._points.delete_many(prepared.points_of(batch_id))
            if claim is not None:
                await self._keys.delete_one({"_id": claim, "b": batch_id})
        except PyMongoError as exc:
            log.warning("MongoDB: could not undo a failed batch: %s", type(exc).__name__)
