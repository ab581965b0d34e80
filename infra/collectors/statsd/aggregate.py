"""What a flush interval's StatsD packets add up to, as DecodedPoints stamped at the flush.

- counter `name`: the sum of the interval's increments, each divided by its sample rate
  (type counter; the value is per interval, not a running total).
- gauge `name`: the last value; `+n`/`-n` change the value kept from earlier intervals.
  Only gauges that changed in the interval are sent.
- timer, histogram, distribution `name.count` (scaled by sample rates), `name.sum`,
  `name.min`, `name.max`, `name.avg` and `name.p50`, `.p90`, `.p95`, `.p99` (numpy's linear
  interpolation between the closest ranks); type summary.
- set `name`: how many distinct members were seen in the interval (type gauge).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Final, cast

import numpy as np

from infra.collectors.decoded import DecodedPoints, DecodedSeries, SeriesType
from infra.collectors.interning import DEFAULT_MAX_SERIES, SeriesInterner
from infra.collectors.statsd.parse import Sample, StatsdLineError, parse_line

__all__ = ["DEFAULT_PERCENTILES", "StatsdAggregator"]

DEFAULT_PERCENTILES: Final = (50.0, 90.0, 95.0, 99.0)

_Tags = tuple[tuple[str, str], ...]
_Key = tuple[str, SeriesType, _Tags]


def _series(key: Hashable) -> DecodedSeries:
    name, kind, tags = cast(_Key, key)
    return DecodedSeries(name=name, tags=dict(tags), type=kind)


class StatsdAggregator:
    """Feed it packets; `flush` returns the interval's points and starts a new interval."""

    def __init__(
        self,
        *,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        self._percentiles = tuple(percentiles)
        self._interner = SeriesInterner(max_entries=max_series)
        self._counters: dict[tuple[str, _Tags], float] = {}
        self._gauges: dict[tuple[str, _Tags], float] = {}
        self._changed: set[tuple[str, _Tags]] = set()
        self._timers: dict[tuple[str, _Tags], tuple[list[float], list[float]]] = {}
        self._sets: dict[tuple[str, _Tags], set[str]] = {}
        self.bad_lines = 0
        self.last_error = ""

    def feed(self, packet: bytes) -> int:
        """Adds one datagram (lines separated by newlines); answers how many lines were bad."""
        bad = 0
        for line in packet.decode("utf-8", errors="replace").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                sample = parse_line(line)
            except StatsdLineError as exc:
                bad += 1
                self.last_error = str(exc)
                continue
            if sample is not None:
                self._add(sample)
        self.bad_lines += bad
        return bad

    def _add(self, sample: Sample) -> None:
        key = (sample.name, sample.tags)
        if sample.kind == "c":
            self._counters[key] = self._counters.get(key, 0.0) + sample.value / sample.rate
        elif sample.kind == "g":
            base = self._gauges.get(key, 0.0) if sample.delta else 0.0
            self._gauges[key] = base + sample.value
            self._changed.add(key)
        elif sample.kind == "s":
            self._sets.setdefault(key, set()).add(sample.member)
        else:
            values, weights = self._timers.setdefault(key, ([], []))
            values.append(sample.value)
            weights.append(1.0 / sample.rate)

    def flush(self, now_us: int) -> DecodedPoints:
        keys: list[Hashable] = []
        values: list[float] = []

        def add(name: str, kind: SeriesType, tags: _Tags, value: float) -> None:
            keys.append((name, kind, tags))
            values.append(value)

        for (name, tags), total in self._counters.items():
            add(name, "counter", tags, total)
        for key in self._changed:
            add(key[0], "gauge", key[1], self._gauges[key])
        for (name, tags), members in self._sets.items():
            add(name, "gauge", tags, float(len(members)))
        for (name, tags), (observed, weights) in self._timers.items():
            column = np.array(observed, dtype=np.float64)
            add(f"{name}.count", "summary", tags, float(sum(weights)))
            add(f"{name}.sum", "summary", tags, float(column.sum()))
            add(f"{name}.min", "summary", tags, float(column.min()))
            add(f"{name}.max", "summary", tags, float(column.max()))
            add(f"{name}.avg", "summary", tags, float(column.mean()))
            for p, value in zip(
                self._percentiles, np.percentile(column, self._percentiles), strict=True
            ):
                add(f"{name}.p{p:g}", "summary", tags, float(value))
        self._counters = {}
        self._changed = set()
        self._sets = {}
        self._timers = {}
        series, index = self._interner.index(keys, _series)
        return DecodedPoints(
            series=series,
            series_index=index,
            timestamps_us=np.full(len(values), now_us, dtype=np.int64),
            values=np.array(values, dtype=np.float64),
        )
