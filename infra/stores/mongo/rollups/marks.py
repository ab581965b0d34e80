"""Watermarks and dirty marks on MongoDB, as the append path writes them.

The time-series insert cannot join a transaction (decision 0004), so the append marks in
two steps around it:

1. before the insert, the buckets of its points stamped below the watermarks this process
   last saw (the common late point; a crash after the insert then leaves the marks);
2. after the insert is acknowledged, the watermarks are read again from the server; the
   points between the old and the new ones get their marks too, before the append answers.

An advance publishes the watermark it moves to (`to`) before it reads any point (store.py).
So a point the advance's read missed was inserted after that read, hence after `to` was
published, and the append's second read sees `to` and marks it. A point is therefore in
its tier's row or marked by the time its batch is acknowledged. A mark written for a
point that is in the row anyway (or a batch that failed) costs one recomputation, no more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pymongo import UpdateOne
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from domain.metrics.ingest import SeriesSpec
from domain.storage.tiers import ROLLUP_TIERS
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import ROLLUP_DIRTY, ROLLUP_STATE, Database

__all__ = ["RollupMarks", "effective"]

log = logging.getLogger("vigil.store.mongo")

_NONE = -(2**63)  # below every timestamp: nothing marked


def effective(doc: Mapping[str, Any]) -> int:
    """The watermark appends must mark below: the one an advance is moving to, if any."""
    return max(int(doc.get("w", 0)), int(doc.get("to", 0)))


class RollupMarks:
    """The watermarks this process last saw, and the dirty marks appends write."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._state = db[ROLLUP_STATE]
        self._dirty = db.get_collection(ROLLUP_DIRTY, write_concern=concern)
        self._seen: dict[str, int] = {tier.name: 0 for tier in ROLLUP_TIERS}

    def seen(self) -> dict[str, int]:
        """Tier name -> the effective watermark last seen (it only grows)."""
        return dict(self._seen)

    async def load(self) -> dict[str, int]:
        """Read the watermarks from the server (and remember them)."""
        async for doc in self._state.find({}):
            name = doc["_id"]
            if name in self._seen:
                self._seen[name] = max(self._seen[name], effective(doc))
        return self.seen()

    def saw(self, tier: str, watermark: int) -> None:
        self._seen[tier] = max(self._seen[tier], watermark)

    async def mark(
        self,
        project: str,
        series: Sequence[SeriesSpec],
        series_index: Sequence[int],
        timestamps_us: Sequence[int],
        floor: Mapping[str, int],
        ceiling: Mapping[str, int],
    ) -> int:
        """Mark dirty, per tier, the buckets of the points stamped in [floor, ceiling)
        (`series_index` indexes `series`). The number of marks written."""
        if not timestamps_us:
            return 0
        stamps = np.asarray(timestamps_us, dtype=np.int64)
        index = np.asarray(series_index, dtype=np.int64)
        ops: list[UpdateOne] = []
        for tier in ROLLUP_TIERS:
            low, high = floor.get(tier.name, _NONE), ceiling.get(tier.name, _NONE)
            if high <= low:
                continue
            chosen = (stamps >= low) & (stamps < high)
            if not chosen.any():
                continue
            buckets = stamps[chosen] - stamps[chosen] % tier.resolution_us
            pairs = np.unique(np.stack([index[chosen], buckets], axis=1), axis=0)
            for i, bucket in pairs.tolist():
                spec = series[i]
                ops.append(_mark(tier.name, project, spec.id, spec.name, bucket))
        if ops:
            await self._dirty.bulk_write(ops, ordered=False)
        return len(ops)

    async def mark_points(self, project: str, points: Sequence[tuple[int, str, int]]) -> int:
        """Mark the buckets of (series id, name, us) points below the current watermarks
        (a batch found void after a rollup may have read it)."""
        if not points:
            return 0
        marks = await self.load()
        ops: dict[tuple[str, int, int], UpdateOne] = {}
        for tier in ROLLUP_TIERS:
            for sid, name, us in points:
                if us < marks[tier.name]:
                    bucket = us - us % tier.resolution_us
                    ops[(tier.name, sid, bucket)] = _mark(tier.name, project, sid, name, bucket)
        if ops:
            try:
                await self._dirty.bulk_write(list(ops.values()), ordered=False)
            except PyMongoError as exc:
                log.warning("MongoDB: could not mark rollup buckets dirty: %s", type(exc).__name__)
                return 0
        return len(ops)


def _mark(tier: str, project: str, sid: int, name: str, bucket: int) -> UpdateOne:
    """A mark; `g` grows with every mark, so a refresh clears only the marks it read."""
    key = {"t": tier, "p": project, "s": sid, "b": bucket}
    return UpdateOne(key, {"$inc": {"g": 1}, "$set": {"n": name}}, upsert=True)
