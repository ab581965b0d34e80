"""Remote-write 2.0 bodies of the common shape decoded column-wise (see wirescan).

Symbol references are request-local, so a series cannot be cached by its raw bytes as in
1.0: every symbol is mapped to a process-wide id first (one dict lookup per symbol), then
each series' key is the bytes of its label and metadata ids, sliced from one array.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from infra.collectors.decoded import DecodedSeries
from infra.collectors.interning import SeriesInterner
from infra.collectors.prometheus.columns import finish
from infra.collectors.prometheus.fast import MIN_SERIES
from infra.collectors.prometheus.generic import Decoded
from infra.collectors.prometheus.labels import METRIC_TYPES, series_from_labels
from infra.collectors.prometheus.messages import V2
from infra.collectors.prometheus.wirescan import (
    IntArray,
    field_run,
    one_sample,
    packed_varints,
    padded,
    varints,
)

__all__ = ["V2State", "decode_v2_fast"]

_RAW: Any = V2["RequestRaw"]
_META: Final = 3  # type, help id, unit id after each series' label ids


class V2State:
    """Process-wide symbol ids and the series interned by them; cleared together."""

    def __init__(self, interner: SeriesInterner, *, max_symbols: int) -> None:
        self.interner = interner
        self.ids: dict[str, int] = {}
        self.symbols: list[str] = []
        self._max = max_symbols

    def map(self, symbols: list[str]) -> IntArray:
        if len(self.ids) + len(symbols) > self._max:
            self.ids.clear()
            self.symbols.clear()
            self.interner.clear()  # its keys are made of the ids just dropped
        ids = self.ids
        found = list(map(ids.get, symbols))
        if None in found:
            for pos, symbol in enumerate(symbols):
                if found[pos] is None:
                    found[pos] = ids.setdefault(symbol, len(ids))
                    if found[pos] == len(self.symbols):
                        self.symbols.append(symbol)
        return np.fromiter(found, np.int64, len(found))

    def series(self, key: Hashable) -> DecodedSeries:
        ids = np.frombuffer(key, np.int64).tolist()  # type: ignore[call-overload]
        names = self.symbols
        labels = [(names[ids[i]], names[ids[i + 1]]) for i in range(0, len(ids) - _META, 2)]
        kind, help_id, unit_id = ids[-_META:]
        return series_from_labels(
            labels, kind=METRIC_TYPES.get(kind), help=names[help_id], unit=names[unit_id]
        )


def _metadata(
    a: npt.NDArray[np.uint8], start: IntArray, end: IntArray
) -> tuple[IntArray, IntArray, IntArray] | None:
    """(type, help_ref, unit_ref) of `Metadata` messages in [start, end), 0 where absent."""
    pos = start
    out = []
    for tag in (0x08, 0x18, 0x20):
        here = (pos < end) & (a[pos] == tag)
        read = varints(a, pos + 1, here)
        if read is None:
            return None
        out.append(np.where(here, read[0], 0))
        pos = np.where(here, pos + 1 + read[1], pos)
    if not bool((pos == end).all()):
        return None
    return out[0], out[1], out[2]


def decode_v2_fast(data: bytes, state: V2State) -> Decoded | None:
    try:
        request = _RAW.FromString(data)
    except Exception:  # the generic path names the error
        return None
    records = list(request.timeseries)
    symbols = list(request.symbols)
    if len(records) < MIN_SERIES or symbols[:1] != [""]:
        return None
    body = b"".join(records)
    lengths = np.fromiter(map(len, records), np.int64, len(records))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    a = padded(body)
    refs_end = field_run(a, starts, ends, 0x0A, single=True)  # one packed field
    if refs_end is None:
        return None
    sample = one_sample(a, refs_end, ends)
    if sample is None:
        return None
    pos = sample.end
    has_meta = (pos < ends) & (a[pos] == 0x2A)
    meta_size = np.where(has_meta, a[pos + 1].astype(np.int64), 0)
    meta_start = np.where(has_meta, pos + 2, pos)
    meta_end = meta_start + meta_size
    has_created = (meta_end < ends) & (a[meta_end] == 0x30)
    created = varints(a, meta_end + 1, has_created)
    meta = _metadata(a, meta_start, meta_end)
    if created is None or meta is None or bool((meta_size >= 0x80).any()):
        return None
    if not bool((meta_end + np.where(has_created, 1 + created[1], 0) == ends).all()):
        return None
    refs_start = starts + 2 + (a[starts + 1] >= 0x80)
    refs = packed_varints(a, refs_start, refs_end)
    if refs is None:
        return None
    values, counts = refs
    kind, help_ref, unit_ref = meta
    top = max(int(values.max(initial=0)), int(help_ref.max()), int(unit_ref.max()))
    if bool((counts % 2).any()) or top >= len(symbols):
        return None  # the generic path says which series is wrong
    ids = state.map(symbols)
    # Each series' key: its label ids then (type, help id, unit id), one int64 array.
    record = np.repeat(np.arange(len(records)), counts)
    flat = np.empty(len(values) + _META * len(records), np.int64)
    flat[np.arange(len(values)) + _META * record] = ids[values]
    key_end = np.cumsum(counts + _META)
    flat[key_end - 3] = kind
    flat[key_end - 2] = ids[help_ref]
    flat[key_end - 1] = ids[unit_ref]
    packed = flat.tobytes()
    bounds = (key_end * 8).tolist()
    begins = ((key_end - counts - _META) * 8).tolist()
    keys = list(map(packed.__getitem__, map(slice, begins, bounds)))
    points, accepted = finish(
        keys, sample.timestamps_ms, sample.values, interner=state.interner, make=state.series
    )
    return Decoded(points, int(accepted.sum()), 0, 0)
