"""The usage meter: per-minute counts in memory, taken by the runner to be stored.

Ingest is a hot path, so a batch costs one `bincount` and one dictionary update per
series of the batch; nothing is written until the minute is over. A crash loses at most
the counts of the minute under way (and of a minute whose write failed and waits for the
next flush), never a point: the counts are about the points, not the points themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.ports import Clock
from domain.usage.model import MINUTE_US, QUERIES, QUERY_CPU_SECONDS, USAGE_SOURCE

__all__ = ["MinuteCounts", "UsageMeter"]


@dataclass(slots=True)
class MinuteCounts:
    """What one instance counted in one minute."""

    minute_us: int
    # project -> series id -> points ingested
    points: dict[str, dict[int, int]] = field(default_factory=dict)
    # (project, figure) -> amount
    counters: dict[tuple[str, str], float] = field(default_factory=dict)
    # (project, metric) -> read at (the minute)
    reads: dict[tuple[str, str], int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.points or self.counters or self.reads)

    def merge(self, other: MinuteCounts) -> None:
        """Add `other` (the same minute) into this one."""
        for project, counts in other.points.items():
            mine = self.points.setdefault(project, {})
            for sid, n in counts.items():
                mine[sid] = mine.get(sid, 0) + n
        for key, amount in other.counters.items():
            self.counters[key] = self.counters.get(key, 0.0) + amount
        for key, at in other.reads.items():
            self.reads[key] = max(at, self.reads.get(key, at))


class UsageMeter:
    """Counts of this instance, by minute of arrival (the clock's, not the points' own
    timestamps: usage is when Vigil did the work)."""

    def __init__(self, clock: Clock, *, enabled: bool = True) -> None:
        self.enabled = enabled  # off (VIGIL_USAGE_SECONDS=0): nothing is counted or held
        self._clock = clock
        self._current = MinuteCounts(-1)
        self._closed: dict[int, MinuteCounts] = {}

    def _now(self) -> MinuteCounts:
        minute = self._clock.now_us() // MINUTE_US * MINUTE_US
        current = self._current
        if current.minute_us != minute:
            if current:
                self._keep(current)
            current = self._current = MinuteCounts(minute)
        return current

    def _keep(self, counts: MinuteCounts) -> None:
        kept = self._closed.get(counts.minute_us)
        if kept is None:
            self._closed[counts.minute_us] = counts
        else:
            kept.merge(counts)

    # -- counting (hot paths) ------------------------------------------------------------

    def count_points(
        self,
        project: str,
        series: Sequence[dict[str, Any]],
        series_index: Sequence[int] | npt.NDArray[np.int64],
    ) -> None:
        """A stored batch (MetricCollectedEvent's columns)."""
        if not self.enabled or not series or series[0].get("source") == USAGE_SOURCE:
            return  # Vigil's own usage series: counting them would be usage of usage
        current = self._now()
        counts = current.points.get(project)
        if counts is None:
            counts = current.points[project] = {}
        if len(series) == 1:
            sid = series[0]["id"]
            counts[sid] = counts.get(sid, 0) + len(series_index)
            return
        if len(series) == len(series_index):  # one point per series: no counting needed
            for spec in series:
                sid = spec["id"]
                counts[sid] = counts.get(sid, 0) + 1
            return
        per_series = np.bincount(np.asarray(series_index), minlength=len(series)).tolist()
        for spec, n in zip(series, per_series, strict=True):
            if n:
                sid = spec["id"]
                counts[sid] = counts.get(sid, 0) + n

    def add(self, project: str, figure: str, amount: float = 1.0) -> None:
        if not self.enabled:
            return
        counters = self._now().counters
        counters[(project, figure)] = counters.get((project, figure), 0.0) + amount

    def count_query(self, project: str, cpu_seconds: float) -> None:
        if not self.enabled:
            return
        counters = self._now().counters
        counters[(project, QUERIES)] = counters.get((project, QUERIES), 0.0) + 1
        key = (project, QUERY_CPU_SECONDS)
        counters[key] = counters.get(key, 0.0) + cpu_seconds

    def read(self, project: str, metric: str) -> None:
        """A metric was read (a chart, a rule, a report, a query): the read log keeps the
        last minute of each, written at most once a minute."""
        if not self.enabled:
            return
        current = self._now()
        current.reads[(project, metric)] = current.minute_us

    def read_all(self, reads: Iterable[tuple[str, str]]) -> None:
        if not self.enabled:
            return
        current = self._now()
        for key in reads:
            current.reads[key] = current.minute_us

    # -- taking (the runner) -------------------------------------------------------------

    def take(self, *, everything: bool = False) -> list[MinuteCounts]:
        """The minutes that are over (with `everything`, the one under way too), oldest
        first; they are no longer held here."""
        self._now()
        if everything and self._current:
            self._keep(self._current)
            self._current = MinuteCounts(self._current.minute_us)
        taken = [self._closed[m] for m in sorted(self._closed)]
        self._closed = {}
        return taken

    def give_back(self, counts: Iterable[MinuteCounts]) -> None:
        """Minutes whose write failed: kept for the next flush."""
        for minute in counts:
            self._keep(minute)

    @property
    def pending_minutes(self) -> int:
        return len(self._closed) + (1 if self._current else 0)
