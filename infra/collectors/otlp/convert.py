"""OTLP metrics (the protobuf message, however it arrived) turned into Vigil points.

Gauges are gauges; sums are counters when monotonic, gauges otherwise (delta sums keep
their per-interval values); histograms become `<name>.bucket` (cumulative counts with an
`le` tag, as Prometheus stores them), `<name>.sum` and `<name>.count`; exponential histograms
keep `<name>.sum` and `<name>.count` only; summaries become `<name>` with a `quantile` tag,
`<name>.sum` and `<name>.count`. A data point Vigil cannot store is listed in `rejected`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from typing import Any, cast

from infra.collectors.decoded import DecodedSeries, SeriesType

__all__ = ["Gathered", "gather", "series_of_key"]

_NO_RECORDED_VALUE = 1  # DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK

# (name, type, help, unit, sorted tag items)
_Key = tuple[str, SeriesType, str, str, tuple[tuple[str, str], ...]]


def series_of_key(key: Hashable) -> DecodedSeries:
    name, kind, help, unit, tags = cast(_Key, key)
    return DecodedSeries(name=name, tags=dict(tags), type=kind, help=help, unit=unit)


def _text(value: Any) -> str | None:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(value.double_value)
    return None  # arrays, maps and bytes are not tag values


def _tags(attributes: Any, base: dict[str, str]) -> dict[str, str]:
    tags = dict(base)
    for item in attributes:
        text = _text(item.value)
        if text is not None:
            tags[item.key] = text
    return tags


def _bound(value: float) -> str:
    return "+Inf" if math.isinf(value) else repr(float(value))


@dataclass(slots=True)
class Gathered:
    keys: list[Hashable] = field(default_factory=list)
    stamps_ns: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    data_points: int = 0

    def add(self, key: _Key, stamp: int, value: float) -> None:
        self.keys.append(key)
        self.stamps_ns.append(stamp)
        self.values.append(value)


def gather(request: Any, resource_tags: Collection[str]) -> Gathered:
    out = Gathered()
    for resource_metrics in request.resource_metrics:
        base = {
            item.key: text
            for item in resource_metrics.resource.attributes
            if item.key in resource_tags and (text := _text(item.value)) is not None
        }
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                _metric(metric, base, out)
    return out


def _metric(metric: Any, base: dict[str, str], out: Gathered) -> None:
    kind = metric.WhichOneof("data")
    name, help, unit = metric.name, metric.description, metric.unit
    if kind is None:
        return
    data = getattr(metric, kind)
    series_type: SeriesType = {
        "gauge": "gauge",
        "sum": "counter" if kind == "sum" and data.is_monotonic else "gauge",
        "histogram": "histogram",
        "exponential_histogram": "histogram",
        "summary": "summary",
    }[kind]
    for point in data.data_points:
        index = out.data_points
        out.data_points += 1
        reason = _problem(name, point, kind)
        if reason:
            out.rejected.append((index, reason))
            continue
        tags = _tags(point.attributes, base)
        stamp = point.time_unix_nano
        key = _Keys(name, series_type, help, unit, tags)

        if kind in ("gauge", "sum"):
            value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
            out.add(key.of(""), stamp, float(value))
        elif kind == "histogram":
            running = 0
            bounds = [*point.explicit_bounds, math.inf]
            for bound, count in zip(bounds, point.bucket_counts, strict=False):
                running += count
                out.add(key.of(".bucket", (("le", _bound(bound)),)), stamp, float(running))
            out.add(key.of(".count"), stamp, float(point.count))
            if point.HasField("sum"):
                out.add(key.of(".sum"), stamp, point.sum)
        elif kind == "exponential_histogram":
            out.add(key.of(".count"), stamp, float(point.count))
            if point.HasField("sum"):
                out.add(key.of(".sum"), stamp, point.sum)
        else:  # summary
            for quantile in point.quantile_values:
                out.add(key.of("", (("quantile", repr(quantile.quantile)),)), stamp, quantile.value)
            out.add(key.of(".count"), stamp, float(point.count))
            out.add(key.of(".sum"), stamp, point.sum)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The series keys of one data point: its name with a suffix, its tags plus extras."""

    name: str
    kind: SeriesType
    help: str
    unit: str
    tags: dict[str, str]

    def of(self, suffix: str, extra: tuple[tuple[str, str], ...] = ()) -> _Key:
        items = tuple(sorted({**self.tags, **dict(extra)}.items()))
        return (self.name + suffix, self.kind, self.help, self.unit, items)


def _problem(name: str, point: Any, kind: str) -> str:
    where = f"metric {name!r}"
    if not name:
        return "a metric has no name"
    if point.flags & _NO_RECORDED_VALUE:
        return f"{where}: the data point has no recorded value"
    if not point.time_unix_nano:
        return f"{where}: the data point has no time_unix_nano"
    if kind in ("gauge", "sum"):
        if point.WhichOneof("value") is None:
            return f"{where}: the data point has no value"
        if point.WhichOneof("value") == "as_double" and not math.isfinite(point.as_double):
            return f"{where}: value {point.as_double!r} is not a finite number"
    elif kind == "histogram" and len(point.bucket_counts) not in (
        0,
        len(point.explicit_bounds) + 1,
    ):
        return f"{where}: bucket_counts must have one more entry than explicit_bounds"
    has_sum = kind not in ("gauge", "sum") and (kind == "summary" or point.HasField("sum"))
    if has_sum and not math.isfinite(point.sum):
        return f"{where}: sum {point.sum!r} is not a finite number"
    if kind == "summary" and any(not math.isfinite(q.value) for q in point.quantile_values):
        return f"{where}: a quantile value is not a finite number"
    return ""
