"""Remote-write bodies decoded message by message with the upb runtime: every shape the
specifications allow (several samples per series, native histograms, exemplars, metadata).
The fast paths fall back here for anything but the common shape."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
from google.protobuf.message import DecodeError as ProtobufDecodeError

from infra.collectors.decoded import DecodedPoints, DecodedSeries, DecodeError, MetricFamily
from infra.collectors.interning import SeriesInterner
from infra.collectors.prometheus.columns import finish
from infra.collectors.prometheus.labels import METRIC_TYPES, family_of, series_from_labels
from infra.collectors.prometheus.messages import V1, V2

__all__ = ["Decoded", "decode_v1", "decode_v2", "parse"]

_HISTOGRAM_PARTS: Final = (("_count", 0), ("_sum", 1))

# (labels, type, help, unit): the series identity with the metadata it came with.
_Key = tuple[tuple[tuple[str, str], ...], Any, str, str]


@dataclass(frozen=True, slots=True)
class Decoded:
    points: DecodedPoints
    samples: int
    histograms: int
    exemplars: int


def parse(cls: Any, data: bytes, what: str) -> Any:
    try:
        return cls.FromString(data)
    except ProtobufDecodeError as exc:
        raise DecodeError(400, f"the body is not a valid {what} protobuf message: {exc}") from None


def _make(key: Hashable) -> DecodedSeries:
    labels, kind, help, unit = cast(_Key, key)
    return series_from_labels(labels, kind=kind, help=help, unit=unit)


class _Collector:
    """Points gathered series by series, native histograms as `_count` and `_sum`."""

    def __init__(self) -> None:
        self.keys: list[_Key] = []
        self.stamps: list[int] = []
        self.values: list[float] = []
        self.in_histogram: list[bool] = []
        self.exemplars = 0

    def add(self, series: Any, key: _Key) -> None:
        samples = series.samples
        if samples:
            self.keys.extend([key] * len(samples))
            self.stamps.extend([s.timestamp for s in samples])
            self.values.extend([s.value for s in samples])
            self.in_histogram.extend([False] * len(samples))
        for histogram in series.histograms:
            count = histogram.count_float or float(histogram.count_int)
            labels = dict(key[0])
            name = labels.get("__name__", "")
            for suffix, part in _HISTOGRAM_PARTS:
                labels["__name__"] = name + suffix if name else ""
                self.keys.append((tuple(labels.items()), "histogram", key[2], key[3]))
                self.stamps.append(histogram.timestamp)
                self.values.append(histogram.sum if part else count)
                self.in_histogram.append(True)
        self.exemplars += len(series.exemplars)

    def finish(self, interner: SeriesInterner, families: list[MetricFamily]) -> Decoded:
        points, accepted = finish(
            self.keys,
            np.array(self.stamps, dtype=np.int64),
            np.array(self.values, dtype=np.float64),
            interner=interner,
            make=_make,
            families=families,
        )
        # A native histogram is two points (count, sum): written when both are.
        parts = np.array(self.in_histogram, dtype=np.bool_)
        samples = int(accepted[~parts].sum())
        histograms = int(accepted[parts].reshape(-1, 2).all(axis=1).sum())
        return Decoded(points, samples, histograms, 0)


def decode_v1(data: bytes, interner: SeriesInterner) -> Decoded:
    request = parse(V1["WriteRequest"], data, "prometheus.WriteRequest")
    families = [
        MetricFamily(
            m.metric_family_name, METRIC_TYPES.get(m.type, "gauge"), help=m.help, unit=m.unit
        )
        for m in request.metadata
        if m.metric_family_name
    ]
    by_name = {f.name: f for f in families}
    out = _Collector()
    for series in request.timeseries:
        labels = tuple((label.name, label.value) for label in series.labels)
        family = None
        if by_name:
            family = family_of(next((v for k, v in labels if k == "__name__"), ""), by_name)
        if family is None:
            out.add(series, (labels, None, "", ""))
        else:
            out.add(series, (labels, family.type, family.help, family.unit))
    return out.finish(interner, families)


def decode_v2(data: bytes, interner: SeriesInterner) -> Decoded:
    request = parse(V2["Request"], data, "io.prometheus.write.v2.Request")
    symbols = list(request.symbols)
    if symbols and symbols[0] != "":
        raise DecodeError(400, "symbols must start with the empty string (remote-write 2.0)")
    out = _Collector()
    for position, series in enumerate(request.timeseries):
        refs = list(series.labels_refs)
        meta = series.metadata
        _check_refs(refs, (meta.help_ref, meta.unit_ref), len(symbols), position)
        names, values = [symbols[r] for r in refs[::2]], [symbols[r] for r in refs[1::2]]
        labels = tuple(zip(names, values, strict=True))
        key = (labels, METRIC_TYPES.get(meta.type), symbols[meta.help_ref] if symbols else "")
        out.add(series, (*key, symbols[meta.unit_ref] if symbols else ""))
    return out.finish(interner, [])


def _check_refs(refs: list[int], meta: tuple[int, int], symbols: int, position: int) -> None:
    if len(refs) % 2:
        raise DecodeError(400, f"series {position}: labels_refs has an odd length {len(refs)}")
    worst = max((*refs, *meta), default=0)
    if worst and worst >= symbols:
        raise DecodeError(
            400, f"series {position}: symbol reference {worst} is outside the table of {symbols}"
        )
