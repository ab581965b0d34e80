"""Per-project series limits: active series, and series becoming active per minute.

A series is *active* while it has received a point within the last `window_us` (by
arrival; after a restart, by the newest stored point's timestamp, the store's best
record of it), as a series is in Prometheus's head block while it has recent samples.
A series *becomes active* (is "created", as `prometheus_tsdb_head_series_created_total`
counts it) when it was never stored or was idle for a whole window. A batch that would
take a project past either limit is refused whole (ingest is all-or-nothing), naming the
first point whose series does not fit. Vigil's own project, `system`, is not limited: its
series grow with the number of projects, and its points must never be refused.

The checks cost one dictionary lookup per series of a batch, none per point; the point
that names the refused series is looked for only on a refusal.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import cast

from domain.access import SYSTEM_PROJECT
from domain.errors import VigilError
from domain.metrics.ingest import PointBatch
from domain.ports import Clock

__all__ = [
    "ACTIVE_SERIES",
    "NEW_SERIES_PER_MINUTE",
    "Admission",
    "SeriesActivity",
    "SeriesLimitExceeded",
    "SeriesLimiter",
    "SeriesLimits",
]

ACTIVE_SERIES = "activeSeries"
NEW_SERIES_PER_MINUTE = "newSeriesPerMinute"
MINUTE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class SeriesLimits:
    """Per project; 0 turns a limit off."""

    max_active: int = 100_000
    max_new_per_minute: int = 20_000
    window_seconds: float = 3_600.0

    @property
    def window_us(self) -> int:
        return int(self.window_seconds * 1_000_000)


class SeriesLimitExceeded(VigilError):
    """A batch whose new series do not fit under a project's limit; nothing was stored.

    `extensions`: `index` (the first point of the first series that does not fit),
    `limit` (`activeSeries` or `newSeriesPerMinute`), `max`, `current` (the project's
    count before the batch), and `retryAfterSeconds` for the per-minute limit.
    """

    code = "LIMIT_EXCEEDED"

    def __init__(
        self,
        project: str,
        index: int,
        limit: str,
        maximum: int,
        current: int,
        *,
        retry_after_seconds: int | None = None,
    ) -> None:
        if limit == ACTIVE_SERIES:
            what = f"{maximum} active series (it has {current})"
        else:
            what = f"{maximum} new series a minute ({current} in the last minute)"
        details: dict[str, object] = {
            "index": index,
            "limit": limit,
            "max": maximum,
            "current": current,
        }
        if retry_after_seconds is not None:
            details["retryAfterSeconds"] = retry_after_seconds
        super().__init__(
            f"point #{index} would take project {project!r} past its limit of {what};"
            " nothing stored",
            **details,
        )
        self.project, self.index, self.limit = project, index, limit
        self.maximum, self.current = maximum, current
        self.retry_after_seconds = retry_after_seconds

    def at_entry(self, entry: int) -> SeriesLimitExceeded:
        """The same refusal naming a series entry of the columnar form, as BatchRejected
        names it, rather than a position in the concatenated points."""
        return SeriesLimitExceeded(
            self.project,
            entry,
            self.limit,
            self.maximum,
            self.current,
            retry_after_seconds=self.retry_after_seconds,
        )


@dataclass(frozen=True, slots=True)
class SeriesActivity:
    """What a store knows at start: per project, the series with a point since the
    window's start (their newest point's timestamp) and when each series first stored in
    the last minute was created (microseconds)."""

    active: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    created: Mapping[str, Sequence[int]] = field(default_factory=dict)


@dataclass(slots=True)
class _Project:
    last_seen: dict[int, int] = field(default_factory=dict)  # series id -> arrival (us)
    created: deque[list[int]] = field(default_factory=deque)  # [arrival us, count]
    created_count: int = 0
    pruned_us: int = 0

    def prune(self, now_us: int, window_us: int, *, every_us: int = 0) -> None:
        """Forget the series idle for a window, at most once every `every_us` (a pass
        over the project's series: ~10 ms for 100,000)."""
        if now_us - self.pruned_us < every_us:
            return
        cutoff = now_us - window_us
        self.last_seen = {sid: seen for sid, seen in self.last_seen.items() if seen >= cutoff}
        self.pruned_us = now_us

    def created_in_minute(self, now_us: int) -> int:
        created = self.created
        while created and created[0][0] <= now_us - MINUTE_US:
            gone = created.popleft()
            self.created_count -= gone[1]
            gone[1] = 0  # an Admission undone later takes nothing off twice
        return self.created_count


@dataclass(slots=True)
class Admission:
    """A batch admitted: `undo()` if it was not stored after all."""

    project: _Project
    at_us: int
    fresh: dict[int, int | None]  # series that became active -> their earlier arrival
    created: list[int] | None

    def undo(self) -> None:
        last_seen = self.project.last_seen
        for sid, earlier in self.fresh.items():
            if last_seen.get(sid) != self.at_us:
                continue  # another batch has sent a point of it since
            if earlier is None:
                del last_seen[sid]
            else:
                last_seen[sid] = earlier
        if self.created is not None:
            self.project.created_count -= self.created[1]
            self.created[1] = 0


_ID = attrgetter("id")


class SeriesLimiter:
    """Counts per project in memory, seeded from the store at start (`seed`)."""

    def __init__(self, limits: SeriesLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._projects: dict[str, _Project] = {}
        self.refused: Counter[tuple[str, str]] = Counter()  # (project, limit) -> batches

    def seed(self, activity: SeriesActivity) -> None:
        """Counts from the store, so that a restart does not hand out the limits again."""
        now_us = self._clock.now_us()
        cutoff = now_us - self.limits.window_us
        for project, series in activity.active.items():
            entry = self._entry(project)
            for sid, newest in series.items():
                seen = min(newest, now_us)  # a point may be up to minutes in the future
                if seen >= cutoff and seen > entry.last_seen.get(sid, cutoff - 1):
                    entry.last_seen[sid] = seen
        for project, stamps in activity.created.items():
            entry = self._entry(project)
            for stamp in sorted(s for s in stamps if s > now_us - MINUTE_US):
                entry.created.append([stamp, 1])
                entry.created_count += 1

    def admit(self, batch: PointBatch) -> Admission:
        """Mark the batch's series active now, or raise SeriesLimitExceeded and change
        nothing. Synchronous: concurrent batches are admitted one after another."""
        if batch.project == SYSTEM_PROJECT:  # Vigil's own metrics: one series per project
            return Admission(_Project(), 0, {}, None)
        now_us = self._clock.now_us()
        limits = self.limits
        entry = self._entry(batch.project)
        window_us = limits.window_us
        entry.prune(now_us, window_us, every_us=window_us // 60)
        cutoff = now_us - window_us
        last_seen = entry.last_seen
        # C-level maps over the series: a batch of a collector names thousands.
        ids = list(map(_ID, batch.series))
        seen = list(map(last_seen.get, ids))
        fresh: dict[int, int | None] = {}
        if None in seen or min(cast(list[int], seen), default=cutoff) < cutoff:
            fresh = {
                sid: at for sid, at in zip(ids, seen, strict=True) if at is None or at < cutoff
            }
        created: list[int] | None = None
        if fresh:
            self._check(batch, entry, fresh, now_us)
            created = [now_us, len(fresh)]
            entry.created.append(created)
            entry.created_count += len(fresh)
        last_seen.update(dict.fromkeys(ids, now_us))
        return Admission(entry, now_us, fresh, created)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per project: (active series, series become active in the last minute); the
        first may still hold series that went idle in the last 1/60 of the window."""
        now_us = self._clock.now_us()
        window_us = self.limits.window_us
        answer: dict[str, tuple[int, int]] = {}
        for project, entry in self._projects.items():
            entry.prune(now_us, window_us, every_us=window_us // 60)
            answer[project] = (len(entry.last_seen), entry.created_in_minute(now_us))
        return answer

    def _check(
        self, batch: PointBatch, entry: _Project, fresh: dict[int, int | None], now_us: int
    ) -> None:
        limits = self.limits
        room: list[tuple[int, str, int, int]] = []  # (series that fit, limit, max, current)
        if limits.max_active:
            if len(entry.last_seen) + len(fresh) > limits.max_active:
                # exact (to a second) before refusing; not a pass per refused batch
                entry.prune(now_us, limits.window_us, every_us=1_000_000)
            # less the batch's series idle for a window but not forgotten yet
            active = len(entry.last_seen) - sum(1 for sid in fresh if sid in entry.last_seen)
            room.append((limits.max_active - active, ACTIVE_SERIES, limits.max_active, active))
        if limits.max_new_per_minute:
            recent = entry.created_in_minute(now_us)
            maximum = limits.max_new_per_minute
            room.append((maximum - recent, NEW_SERIES_PER_MINUTE, maximum, recent))
        if not room:
            return
        # The tighter limit; on a tie the active one, which waiting a minute does not lift.
        fits, limit, maximum, current = min(room)
        if len(fresh) <= fits:
            return
        self.refused[batch.project, limit] += 1
        index = _first_point_of_series(batch, fresh)[max(fits, 0)]
        retry = None
        if limit == NEW_SERIES_PER_MINUTE:
            oldest = entry.created[0][0] if entry.created else now_us
            retry = max(1, -(-(oldest + MINUTE_US - now_us) // 1_000_000))
        raise SeriesLimitExceeded(
            batch.project, index, limit, maximum, current, retry_after_seconds=retry
        )

    def _entry(self, project: str) -> _Project:
        entry = self._projects.get(project)
        if entry is None:
            entry = self._projects[project] = _Project()
        return entry


def _first_point_of_series(batch: PointBatch, fresh: Mapping[int, object]) -> list[int]:
    """The position of the first point of each series in `fresh`, in point order."""
    slots = {slot for slot, spec in enumerate(batch.series) if spec.id in fresh}
    first: list[int] = []
    for position, slot in enumerate(batch.series_index):
        if slot in slots:
            first.append(position)
            slots.discard(slot)
            if not slots:
                break
    return first
