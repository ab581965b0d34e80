"""Vectorised protobuf wire reading over a whole remote-write body.

A request of thousands of series is read with a few numpy operations per field instead of
a Python loop per series: the upb runtime splits the body into series records, numpy walks
the fields of all records in step. Only the shapes senders actually produce are read this
way (labels, then exactly one sample; 2.0 adds metadata and a created timestamp); any other
record answers None and the caller decodes the body message by message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "PAD",
    "SampleColumns",
    "field_run",
    "one_sample",
    "packed_varints",
    "padded",
    "ragged_index",
    "record_bounds",
    "varints",
]

IntArray = npt.NDArray[np.int64]

PAD: Final = 16  # zero bytes after the body: reads just past a record stop on a zero byte
_VARINT_STEPS: Final = np.array([1 << 7, 1 << 14, 1 << 21, 1 << 28], dtype=np.int64)


def padded(data: bytes) -> npt.NDArray[np.uint8]:
    return np.frombuffer(data + bytes(PAD), np.uint8)


def record_bounds(records: list[bytes], total: int) -> tuple[IntArray, IntArray] | None:
    """(starts, ends) of length-delimited top-level records that make up the whole body."""
    count = len(records)
    lengths = np.fromiter(map(len, records), np.int64, count)
    header = 2 + (lengths[:, None] >= _VARINT_STEPS).sum(axis=1)  # tag, then varint length
    ends = np.cumsum(header + lengths)
    if not count or int(ends[-1]) != total:
        return None  # other top-level fields are interleaved: not the common shape
    return ends - lengths, ends


def varints(
    a: npt.NDArray[np.uint8], pos: IntArray, where: npt.NDArray[np.bool_] | None = None
) -> tuple[IntArray, IntArray] | None:
    """(values as int64 two's complement, byte lengths) of the varints starting at `pos`.

    Rows outside `where` are not read (value 0, length 0). Reads one byte column at a time,
    so small varints (refs, types) cost one gather and timestamps six.
    """
    count = len(pos)
    value = np.zeros(count, np.uint64)
    length = np.zeros(count, np.int64)
    reading = np.ones(count, np.bool_) if where is None else where.copy()
    limit = len(a) - 1
    for j in range(10):
        if not reading.any():
            return value.view(np.int64), length
        column = a[np.minimum(pos + j, limit)]
        part = (column & 0x7F).astype(np.uint64) << np.uint64(7 * j)
        value |= np.where(reading, part, np.uint64(0))
        length[reading] = j + 1
        reading &= column >= 0x80
    return None if reading.any() else (value.view(np.int64), length)


def field_run(
    a: npt.NDArray[np.uint8], pos: IntArray, ends: IntArray, tag: int, *, single: bool = False
) -> IntArray | None:
    """Where a run of length-delimited fields with `tag` ends, per record (lengths < 16 KiB).

    With `single`, exactly one such field must start at each `pos`.
    """
    if single and not bool(((pos < ends) & (a[pos] == tag)).all()):
        return None
    pos = pos.copy()
    for _ in range(1 if single else len(a)):
        here = (pos < ends) & (a[pos] == tag)
        if not here.any():
            return pos if bool((pos <= ends).all()) else None
        low = a[pos + 1].astype(np.int64)
        high = a[pos + 2].astype(np.int64)
        two = low >= 0x80
        if bool((here & two & (high >= 0x80)).any()):
            return None
        length = np.where(two, (low & 0x7F) | (high << 7), low)
        pos = np.where(here, pos + 2 + two + length, pos)
    return pos if bool((pos <= ends).all()) else None


@dataclass(frozen=True, slots=True)
class SampleColumns:
    timestamps_ms: IntArray
    values: npt.NDArray[np.float64]
    end: IntArray  # where each record's sample field ends


def one_sample(a: npt.NDArray[np.uint8], pos: IntArray, ends: IntArray) -> SampleColumns | None:
    """One `Sample {double value = 1; int64 timestamp = 2}` field (tag 0x12) at each `pos`."""
    size = a[pos + 1].astype(np.int64)
    if not bool(((pos + 2 + size <= ends) & (a[pos] == 0x12) & (size < 0x80)).all()):
        return None
    start = pos + 2
    has_value = (size >= 9) & (a[start] == 0x09)
    raw = np.ascontiguousarray(a[(start + 1)[:, None] + np.arange(8)])
    values = np.where(has_value, raw.view("<f8")[:, 0], 0.0)
    after = start + 9 * has_value
    has_time = (after < start + size) & (a[after] == 0x10)
    stamps = varints(a, after + 1, has_time)
    if stamps is None:
        return None
    time_value, time_length = stamps
    used = 9 * has_value + np.where(has_time, 1 + time_length, 0)
    if not bool((used == size).all()):
        return None  # fields out of order, repeated or unknown: the generic path reads them
    return SampleColumns(np.where(has_time, time_value, 0), values, start + size)


def ragged_index(starts: IntArray, ends: IntArray) -> IntArray:
    """Every position of the ranges [starts[i], ends[i]) end to end, as one index array."""
    lengths = ends - starts
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


def packed_varints(
    a: npt.NDArray[np.uint8], starts: IntArray, ends: IntArray
) -> tuple[IntArray, IntArray] | None:
    """(values, count per range) of the packed uint32 varints filling each [start, end)."""
    stream = a[ragged_index(starts, ends)]
    last = stream < 0x80
    lengths = ends - starts
    bounds = np.cumsum(lengths)
    if len(stream) and not bool(last[bounds[lengths > 0] - 1].all()):
        return None  # a varint runs over the end of its range
    stops = np.flatnonzero(last)
    begins = np.concatenate(([0], stops[:-1] + 1)) if len(stops) else stops
    sizes = stops - begins + 1
    if len(sizes) and int(sizes.max()) > 5:
        return None
    values = np.zeros(len(stops), np.int64)
    padded_stream = np.concatenate((stream, np.zeros(5, np.uint8)))
    for j in range(int(sizes.max()) if len(sizes) else 0):
        part = (padded_stream[begins + j] & 0x7F).astype(np.int64) << (7 * j)
        values |= np.where(j < sizes, part, 0)
    ends_seen = np.concatenate(([0], np.cumsum(last)))
    counts = ends_seen[bounds] - ends_seen[bounds - lengths]
    return values, counts
