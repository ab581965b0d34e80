"""Streaming windows: per group of series, the last `window` of points and its aggregate.

On the ingest hot path: adding a point in time order is O(1) (list append), trimming is
O(1) amortised (a moving head, the dead prefix deleted once it is half the list), a late
point is placed with bisect. Aggregating costs O(points in the window).

Out-of-order policy: a point is kept, in time order, unless it is at or before the cutoff
of the latest evaluation of its buffer (`now - window`): such a point is too late to
count and is dropped and counted in `dropped_late`. Points newer than the evaluation
time stay buffered but are left out of that evaluation.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import islice, repeat
from typing import TYPE_CHECKING

import numpy as np

from domain.alerting.model import SECOND_US, InstanceKey, RuleAggregation, Transition

if TYPE_CHECKING:
    from domain.alerting.cohort import Cohort
    from domain.alerting.evaluator import RuleEvaluator

__all__ = ["DEFAULT_MAX_POINTS", "SMALL_WINDOW", "GroupWindows", "Route", "observe_batch"]

DEFAULT_MAX_POINTS = 100_000  # per buffer; past it the oldest points go first

SeriesItems = tuple[tuple[str, str], ...]
Route = tuple[Mapping[str, str], Sequence["Cohort"]]  # a series' tags and its cohorts


class _Buffer:
    """The points of one group (or, for rate, one series) in time order."""

    __slots__ = ("head", "horizon", "ts", "values")

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.values: list[float] = []
        self.head = 0  # ts[:head] are dead
        self.horizon: int | None = None  # points at or before it are too late

    def __len__(self) -> int:
        return len(self.ts) - self.head

    def add(self, ts_us: int, value: float, max_points: int) -> bool:
        horizon = self.horizon
        if horizon is not None and ts_us <= horizon:
            return False
        ts = self.ts
        if not ts or ts_us >= ts[-1]:
            ts.append(ts_us)
            self.values.append(value)
        else:
            at = bisect_right(ts, ts_us, self.head)
            ts.insert(at, ts_us)
            self.values.insert(at, value)
        if len(ts) - self.head > max_points:
            self.head += 1
            self.horizon = ts[self.head - 1]
            self._compact()
        return True

    def trim(self, cutoff_us: int) -> None:
        """Forget the points at or before the cutoff; later arrivals that old are late."""
        if self.horizon is not None and cutoff_us <= self.horizon:
            return
        self.horizon = cutoff_us
        ts, head = self.ts, self.head
        if head < len(ts) and ts[head] <= cutoff_us:
            self.drop_through(cutoff_us)

    def drop_through(self, cutoff_us: int) -> None:
        """Drop the live points at or before the cutoff (the first one is)."""
        ts = self.ts
        head = self.head + 1  # a steady stream loses one point at a time: look at the next
        if head < len(ts) and ts[head] <= cutoff_us:
            head = bisect_right(ts, cutoff_us, head)
        self.head = head
        self._compact()

    def span(self, now_us: int) -> tuple[int, int]:
        """Indexes [lo, hi) of the live points at or before `now_us`."""
        ts, lo = self.ts, self.head
        hi = len(ts)
        if hi > lo and ts[-1] > now_us:
            hi = bisect_right(ts, now_us, lo)
        return lo, hi

    def _compact(self) -> None:
        head = self.head
        if head > 32 and head * 2 > len(self.ts):
            del self.ts[:head]
            del self.values[:head]
            self.head = 0


class GroupWindows:
    """The windows of one rule: one buffer per group of `group_by` values (for rate, one
    per series inside each group: a counter's rate is per series, then summed, like
    PromQL's `sum by (group) (rate(x[window]))`)."""

    def __init__(
        self,
        aggregation: RuleAggregation,
        window_us: int,
        group_by: tuple[str, ...],
        *,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        self.aggregation = aggregation
        self.window_us = window_us
        self.group_by = group_by
        self.max_points = max_points
        self.dropped_late = 0
        self._rate = aggregation is RuleAggregation.RATE
        self._last = aggregation is RuleAggregation.LAST
        self._groups: dict[InstanceKey, _Buffer] = {}
        self._series: dict[InstanceKey, dict[SeriesItems, _Buffer]] = {}

    def add(self, tags: Mapping[str, str], ts_us: int, value: float) -> InstanceKey | None:
        """Buffer a point known to match the rule; its group, or None if it came too late."""
        group_by = self.group_by
        group = tuple([tags.get(key, "") for key in group_by]) if group_by else ()
        if self._rate:
            per_series = self._series.setdefault(group, {})
            items = tuple(sorted(tags.items()))
            buffer = per_series.get(items)
            if buffer is None:
                buffer = per_series[items] = _Buffer()
        else:
            buffer = self._groups.get(group)
            if buffer is None:
                buffer = self._groups[group] = _Buffer()
        if not buffer.add(ts_us, value, self.max_points):
            self.dropped_late += 1
            return None
        return group

    def observe(
        self, tags: Mapping[str, str], ts_us: int, value: float, clock_us: int | None
    ) -> tuple[InstanceKey, int, float | None] | None:
        """`add`, then `aggregate` at `max(clock_us, ts_us)`: the streaming step in one
        call (the ingest hot path). (group, that time, the aggregate), or None if the
        point came too late."""
        if self._rate:
            found = self.add(tags, ts_us, value)
            if found is None:
                return None
            now = ts_us if clock_us is None or ts_us > clock_us else clock_us
            return found, now, self.aggregate(found, now)
        group_by = self.group_by
        group = tuple([tags.get(key, "") for key in group_by]) if group_by else ()
        buffer = self._groups.get(group)
        if buffer is None:
            buffer = self._groups[group] = _Buffer()
        # `_Buffer.add` and `trim` inlined for the usual point (in order, room left): the
        # hot path pays for every call.
        ts, horizon = buffer.ts, buffer.horizon
        if (
            ts
            and ts_us >= ts[-1]
            and (horizon is None or ts_us > horizon)
            and len(ts) - buffer.head < self.max_points
        ):
            ts.append(ts_us)
            buffer.values.append(value)
        elif not buffer.add(ts_us, value, self.max_points):
            self.dropped_late += 1
            return None
        now = ts_us if clock_us is None or ts_us > clock_us else clock_us
        cutoff = now - self.window_us
        horizon = buffer.horizon
        if horizon is None or cutoff > horizon:
            buffer.horizon = cutoff
            if buffer.head < len(ts) and ts[buffer.head] <= cutoff:
                buffer.drop_through(cutoff)
        lo = buffer.head
        hi = len(ts)
        if hi > lo and ts[-1] > now:
            hi = bisect_right(ts, now, lo)
        if self._last:
            return group, now, buffer.values[hi - 1] if hi > lo else None
        return group, now, _aggregate(self.aggregation, buffer.values, lo, hi)

    def aggregate(self, group: InstanceKey, now_us: int) -> float | None:
        """The aggregate over (now - window, now]; None when the window holds no value
        (count is 0.0 then; rate needs two points of one series)."""
        cutoff = now_us - self.window_us
        if self._rate:
            return self._rate_of(group, cutoff, now_us)
        buffer = self._groups.get(group)
        if buffer is None:
            return 0.0 if self.aggregation is RuleAggregation.COUNT else None
        if buffer.horizon is None or cutoff > buffer.horizon:
            buffer.trim(cutoff)
        lo, hi = buffer.span(now_us)
        return _aggregate(self.aggregation, buffer.values, lo, hi)

    def group_of(self, tags: Mapping[str, str]) -> InstanceKey:
        return tuple([tags.get(key, "") for key in self.group_by])

    def groups(self) -> list[InstanceKey]:
        return list(self._series if self._rate else self._groups)

    def points(self, group: InstanceKey) -> int:
        """Buffered points of the group (live or newer than the last evaluation)."""
        if self._rate:
            return sum(len(b) for b in self._series.get(group, {}).values())
        buffer = self._groups.get(group)
        return 0 if buffer is None else len(buffer)

    def take_newer(self, other: GroupWindows) -> None:
        """Take over `other`'s buffer of each group whose newest point is at least as new
        as this window's: `other` was just refilled from the store for a rule joining this
        window, so it holds what this one missed, unless points arrived since its read."""
        for group, buffer in other._groups.items():
            mine = self._groups.get(group)
            if mine is None or _newest(buffer) >= _newest(mine):
                self._groups[group] = buffer
        for group, per_series in other._series.items():
            mine_series = self._series.get(group)
            if mine_series is None or max(map(_newest, per_series.values()), default=-1) >= max(
                map(_newest, mine_series.values()), default=-1
            ):
                self._series[group] = per_series

    def discard(self, group: InstanceKey) -> None:
        self._groups.pop(group, None)
        self._series.pop(group, None)

    def _rate_of(self, group: InstanceKey, cutoff: int, now_us: int) -> float | None:
        per_series = self._series.get(group)
        if not per_series:
            return None
        total: float | None = None
        for items, buffer in list(per_series.items()):
            buffer.trim(cutoff)
            if not buffer:
                del per_series[items]
                continue
            lo, hi = buffer.span(now_us)
            rate = _rate(buffer.ts, buffer.values, lo, hi)
            if rate is not None:
                total = rate if total is None else total + rate
        return total


def _newest(buffer: _Buffer) -> int:
    return buffer.ts[-1] if len(buffer) else -1


def _aggregate(aggregation: RuleAggregation, values: list[float], lo: int, hi: int) -> float | None:
    n = hi - lo
    if aggregation is RuleAggregation.COUNT:
        return float(n)
    if n == 0:
        return None
    if aggregation is RuleAggregation.LAST:
        return values[hi - 1]
    window = values if lo == 0 and hi == len(values) else values[lo:hi]
    if aggregation is RuleAggregation.AVG:
        return sum(window) / n
    if aggregation is RuleAggregation.SUM:
        return float(sum(window))
    if aggregation is RuleAggregation.MIN:
        return min(window)
    if aggregation is RuleAggregation.MAX:
        return max(window)
    quantile = aggregation.quantile
    assert quantile is not None, aggregation
    return _quantile(window, quantile)


SMALL_WINDOW = 512  # below it a sort beats numpy's per-call overhead (~10x at 60 points)


def _quantile(values: list[float], q: float) -> float:
    """numpy's 'linear' quantile (DuckDB's quantile_cont answers the chart query alike)."""
    if len(values) >= SMALL_WINDOW:
        return float(np.quantile(values, q, method="linear"))
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    below = int(position)
    if below + 1 >= len(ordered):
        return float(ordered[-1])
    a, b, t = ordered[below], ordered[below + 1], position - below
    # numpy's lerp: from the nearer end, so the result stays between a and b
    return float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)


def _rate(ts: list[int], values: list[float], lo: int, hi: int) -> float | None:
    """Per-second increase between the first and last point, counter resets handled like
    Prometheus (a drop means the counter restarted from zero), without extrapolating to
    the window's edges. None for fewer than two points."""
    if hi - lo < 2:
        return None
    elapsed = ts[hi - 1] - ts[lo]
    if elapsed <= 0:
        return None
    increase = 0.0
    previous = values[lo]
    for value in islice(values, lo + 1, hi):
        increase += value - previous if value >= previous else value
        previous = value
    return increase * SECOND_US / elapsed


def observe_batch(
    routes: Sequence[Route | None],
    series_index: Sequence[int],
    timestamps_us: Sequence[int],
    values: Sequence[float],
) -> list[tuple[RuleEvaluator, Transition]]:
    """`Cohort.observe` for each point of a batch (point i of series `series_index[i]`, fed
    to the cohorts of `routes[series_index[i]]`), transitions in point order.

    The usual point (in order, into a cached quiet range, LAST or a cheap aggregate) is
    handled here with no Python call: CPython 3.11 allocates a frame stack chunk (mmap)
    when a call crosses the end of one and frees it on return, so a loop whose calls sit
    on that boundary pays 5-15 µs per call, and the server's ingest path runs at such a
    depth (docs/decisions/0010, round 2). `GroupWindows.observe` and `Cohort.observe`
    (domain/alerting/evaluator.py), inlined; any other point takes them."""
    out: list[tuple[RuleEvaluator, Transition]] = []
    last = RuleAggregation.LAST
    for index, ts_us, value in zip(series_index, timestamps_us, values, strict=True):
        route = routes[index]
        if route is None:
            continue
        tags, cohorts = route
        for cohort in cohorts:  # (none of them in a lane: RuleIndex took them back)
            windows = cohort.windows
            group_by = windows.group_by
            group = tuple(map(tags.get, group_by, repeat(""))) if group_by else ()
            quiet = cohort._quiet.get(group)
            buffer = windows._groups.get(group)  # never set for rate
            ts = buffer.ts if buffer is not None else None
            if (
                quiet is None
                or buffer is None
                or not ts
                or ts_us < ts[-1]
                or (buffer.horizon is not None and ts_us <= buffer.horizon)
                or len(ts) - buffer.head >= windows.max_points
            ):
                moved = cohort.observe(tags, ts_us, value)
                if moved:
                    out += moved
                continue
            kept = buffer.values
            ts.append(ts_us)
            kept.append(value)
            clock = cohort.clock_us
            now = ts_us if clock is None or ts_us > clock else clock
            cutoff = now - windows.window_us
            horizon = buffer.horizon
            if horizon is None or cutoff > horizon:  # `_Buffer.trim`
                buffer.horizon = cutoff
                head = buffer.head
                if ts[head] <= cutoff:
                    head += 1
                    if head < len(ts) and ts[head] <= cutoff:
                        head = bisect_right(ts, cutoff, head)
                    if head > 32 and head * 2 > len(ts):  # `_Buffer._compact`
                        del ts[:head]
                        del kept[:head]
                        head = 0
                    buffer.head = head
            lo, hi = buffer.head, len(ts)
            if hi > lo and ts[-1] > now:  # (the point itself may be past the window)
                hi = bisect_right(ts, now, lo)
            if windows.aggregation is last:
                aggregate = kept[hi - 1] if hi > lo else None
            else:
                try:
                    aggregate = _aggregate(windows.aggregation, kept, lo, hi)
                except (ArithmeticError, ValueError):  # recorded as ERROR
                    aggregate = math.nan
            cohort.clock_us = now
            if aggregate is not None and quiet.lo < aggregate < quiet.hi and now < quiet.until_us:
                fresh = cohort._fresh
                noted = fresh.get(group)
                latest = noted[1] if noted is not None else None
                fresh[group] = (aggregate, ts_us if latest is None or ts_us > latest else latest)
                continue
            moved = cohort._moved(group, now, aggregate, ts_us)
            if moved:
                out += moved
    return out
