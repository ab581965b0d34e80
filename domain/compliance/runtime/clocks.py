"""Collectors' clock offsets, seen at ingest: how far each source's newest point is from now.

A collector with a right clock sends, at least now and then, a point stamped a moment ago;
one whose clock is off never does. So per (project, source) and interval the tracker keeps
the offset closest to zero that a batch showed (newest point minus the time it arrived):
backfilled batches do not count against a source, a clock ten minutes fast always does.
Self-monitoring records the offsets in the `system` project each interval
(`vigil.collector.clock_offset_seconds`), where the compliance check reads them.
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from domain.metrics.events import MetricCollectedEvent
from domain.ports import Clock

__all__ = ["ClockOffsets"]

_SOURCE = itemgetter("source")
_NONE = np.iinfo(np.int64).min  # a source without a point in the batch


class ClockOffsets:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._best: dict[tuple[str, str], float] = {}

    def observe(self, event: MetricCollectedEvent) -> None:
        if not len(event.timestamps_us):
            return
        now = self._clock.now_us()
        for source, ts in _newest_by_source(event).items():
            offset = (ts - now) / 1e6
            key = (event.project, source)
            best = self._best.get(key)
            if best is None or abs(offset) < abs(best):
                self._best[key] = offset

    def drain(self) -> dict[tuple[str, str], float]:
        """The interval's offsets by (project, source), and a new interval."""
        found, self._best = self._best, {}
        return found


def _newest_by_source(event: MetricCollectedEvent) -> dict[str, int]:
    """Each source's newest timestamp in the batch, with numpy on its columns; never a
    loop per point."""
    try:
        sources = list(map(_SOURCE, event.series))  # C-level: thousands in a collector's batch
    except KeyError:
        sources = [str(s.get("source", "")) for s in event.series]
    distinct = list(dict.fromkeys(sources))
    columns = event.columns()
    stamps = columns.timestamps_us
    if len(distinct) == 1:
        return {distinct[0]: int(stamps.max())}
    code = {source: n for n, source in enumerate(distinct)}
    of_series = np.fromiter(map(code.__getitem__, sources), np.int64, len(sources))
    of_point = of_series[columns.series_index]
    newest = np.full(len(distinct), _NONE, dtype=np.int64)
    np.maximum.at(newest, of_point, stamps)
    return {
        source: int(ts) for source, ts in zip(distinct, newest.tolist(), strict=True) if ts > _NONE
    }
