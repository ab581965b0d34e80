"""Collectors' clock offsets, seen at ingest: how far each source's newest point is from now.

A collector with a right clock sends, at least now and then, a point stamped a moment ago;
one whose clock is off never does. So per (project, source) and interval the tracker keeps
the offset closest to zero that a batch showed (newest point minus the time it arrived):
backfilled batches do not count against a source, a clock ten minutes fast always does.
Self-monitoring records the offsets in the `system` project each interval
(`vigil.collector.clock_offset_seconds`), where the compliance check reads them.
"""

from __future__ import annotations

from domain.metrics.events import MetricCollectedEvent
from domain.ports import Clock

__all__ = ["ClockOffsets"]


class ClockOffsets:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._best: dict[tuple[str, str], float] = {}

    def observe(self, event: MetricCollectedEvent) -> None:
        if not event.timestamps_us:
            return
        now = self._clock.now_us()
        newest: dict[str, int] = {}
        sources = [str(s.get("source", "")) for s in event.series]
        for index, ts in zip(event.series_index, event.timestamps_us, strict=True):
            source = sources[index]
            if ts > newest.get(source, -(2**62)):
                newest[source] = ts
        for source, ts in newest.items():
            offset = (ts - now) / 1e6
            key = (event.project, source)
            best = self._best.get(key)
            if best is None or abs(offset) < abs(best):
                self._best[key] = offset

    def drain(self) -> dict[tuple[str, str], float]:
        """The interval's offsets by (project, source), and a new interval."""
        found, self._best = self._best, {}
        return found
