"""Batches in the time-series collection: their ids, the order of writes, and void batches.

Every point carries its batch's id (`b`) and a write stamp (`w`): readers keep, of the
points stored at one (series, timestamp), the one with the greatest `(w, b)` (the last
write wins), and leave out the points of void batches. A batch becomes void when its
write failed or its outcome is unknown (a timeout, a cancelled call, a writer presumed
dead): a marker in the ordinary collection `void_batches` says so. Nothing is ever
deleted from the time-series collection on the way (0021).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from infra.stores.mongo.dates import MAX_US, MIN_US, date_of_us, now

__all__ = ["VoidBatch", "Voids", "WriteStamps", "void_document"]


class WriteStamps:
    """Strictly increasing microseconds of this process: the order of its writes.

    Instances order their writes by their clocks; two writes of one (series, timestamp)
    less than the clocks' disagreement apart may be ordered either way, as in any
    last-write-wins store without a central clock.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last


@dataclass(frozen=True, slots=True)
class VoidBatch:
    """A batch whose points readers leave out, and the range of its timestamps."""

    id: ObjectId
    lo_us: int = MIN_US
    hi_us: int = MAX_US

    @classmethod
    def of(cls, doc: dict[str, Any]) -> VoidBatch:
        return cls(doc["_id"], int(doc.get("lo", MIN_US)), int(doc.get("hi", MAX_US)))


def void_document(project: str, batch: VoidBatch) -> dict[str, Any]:
    """The marker, kept as long as the batch's points may exist: the retention counts
    from `at`, the later of now and the batch's newest point (up to 10 min ahead)."""
    latest: datetime = max(now(), date_of_us(batch.hi_us))
    return {"p": project, "lo": batch.lo_us, "hi": batch.hi_us, "at": latest}


class Voids:
    """The void batches of each project that this instance knows of."""

    def __init__(self) -> None:
        self._by_project: dict[str, dict[ObjectId, VoidBatch]] = {}

    def add(self, project: str, batch: VoidBatch) -> None:
        self._by_project.setdefault(project, {})[batch.id] = batch

    def replace(self, project: str, batches: list[VoidBatch]) -> None:
        self._by_project[project] = {b.id: b for b in batches}

    def overlapping(self, project: str, lo_us: int | None, hi_us: int | None) -> list[ObjectId]:
        """Ids of the project's void batches with a point in [lo_us, hi_us] (inclusive)."""
        batches = self._by_project.get(project)
        if not batches:
            return []
        lo = MIN_US if lo_us is None else lo_us
        hi = MAX_US if hi_us is None else hi_us
        return sorted(b.id for b in batches.values() if b.lo_us <= hi and b.hi_us >= lo)
