"""Series entries of a `PointBatch` (the columnar form of createMetrics): one entry per
series with arrays of timestamps and values, turned into columns and checked as columns."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.errors import PointError
from domain.metrics.ingest.batch import BatchRejected, IngestLimits, PointBatch
from domain.metrics.ingest.columnar import assemble
from domain.metrics.ingest.columns import timestamps_us
from domain.metrics.ingest.series import SeriesCache, SeriesKeyRaw

__all__ = ["entry_at", "is_series_entry", "series_entries"]

_NUMBERS = frozenset({float, int})


def is_series_entry(raw: Any) -> bool:
    """A `PointBatch` element of the columnar form (it has `values`, not `value`)."""
    return type(raw) is dict and "values" in raw


def entry_at(entries: list[Any], position: int) -> int:
    """The entry holding point `position` of a valid batch of entries (their points are
    concatenated in order)."""
    for index, entry in enumerate(entries):
        position -= len(entry["values"])
        if position < 0:
            return index
    raise IndexError("no entry holds that point")


def series_entries(
    project: str,
    entries: list[Any],
    *,
    now_us: int,
    limits: IngestLimits,
    cache: SeriesCache,
) -> PointBatch:
    """A `PointBatch` of series entries; a bad entry is named by its index in the list, and
    a bad point inside it by its position in the entry's arrays."""
    columns = _entries_at_once(entries, now_us) or _entries_one_by_one(entries, now_us)
    keys, lengths, stamps, values = columns
    try:
        return assemble(
            len(keys),
            lambda position: cache.spec(project, keys[position], limits),
            project,
            np.repeat(np.arange(len(keys), dtype=np.int64), lengths),
            stamps,
            values,
            now_us=now_us,
            limits=limits,
        )
    except BatchRejected as rejected:
        starts = np.cumsum(lengths) - lengths
        raise BatchRejected([_in_entry(e, starts) for e in rejected.errors]) from None


_Entries = tuple[
    list[SeriesKeyRaw], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]


def _entries_at_once(entries: list[Any], now_us: int) -> _Entries | None:
    """Every entry's arrays flattened and converted in one go (a per-entry numpy call
    cost more than the points of a small entry); None if anything needs a closer look."""
    try:
        if not all(type(raw) is dict for raw in entries):
            return None
        raw_values = [raw["values"] for raw in entries]
        raw_stamps = [raw["timestamps"] for raw in entries]
        if not all(type(v) is list and v for v in raw_values):
            return None
        lengths = list(map(len, raw_values))
        if not all(type(t) is list for t in raw_stamps) or list(map(len, raw_stamps)) != lengths:
            return None
        flat_values = list(chain.from_iterable(raw_values))
        if not set(map(type, flat_values)) <= _NUMBERS:
            return None
        stamps = timestamps_us(list(chain.from_iterable(raw_stamps)), now_us)
        tags = [raw.get("tags") or {} for raw in entries]
        if stamps is None or not all(type(t) is dict for t in tags):
            return None
        keys: list[SeriesKeyRaw] = [
            (raw.get("name"), tuple(t.items()), raw.get("type"), raw.get("category"),
             raw.get("source"))
            for raw, t in zip(entries, tags, strict=True)
        ]  # fmt: skip
        values = np.array(flat_values, dtype=np.float64)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return keys, np.array(lengths, dtype=np.int64), stamps, values


def _entries_one_by_one(entries: list[Any], now_us: int) -> _Entries:
    """Entry by entry, naming every bad one."""
    keys: list[SeriesKeyRaw] = []
    stamps: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    errors: list[PointError] = []
    for index, raw in enumerate(entries):
        try:
            key, entry_stamps, entry_values = _entry(raw, now_us)
        except (ValueError, TypeError, OverflowError) as exc:
            errors.append(PointError(index, str(exc)))
            continue
        keys.append(key)
        stamps.append(entry_stamps)
        values.append(entry_values)
    if errors:
        raise BatchRejected(errors)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    return keys, lengths, np.concatenate(stamps), np.concatenate(values)


def _entry(
    raw: Any, now_us: int
) -> tuple[SeriesKeyRaw, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    if type(raw) is not dict:
        raise ValueError("a series entry must be an object")
    raw_values, raw_stamps = raw.get("values"), raw.get("timestamps")
    if type(raw_values) is not list or not raw_values:
        raise ValueError("values must be a non-empty list of numbers")
    if not set(map(type, raw_values)) <= _NUMBERS:
        raise ValueError("values must be numbers")
    if type(raw_stamps) is not list or len(raw_stamps) != len(raw_values):
        raise ValueError("timestamps must be a list as long as values")
    stamps = timestamps_us(raw_stamps, now_us)
    if stamps is None:
        raise ValueError("timestamps must be epoch milliseconds or ISO-8601 text with a zone")
    tags = raw.get("tags") or {}
    if type(tags) is not dict:
        raise ValueError("tags must be an object of text values")
    key = (
        raw.get("name"),
        tuple(tags.items()),
        raw.get("type"),
        raw.get("category"),
        raw.get("source"),
    )
    return key, stamps, np.array(raw_values, dtype=np.float64)


def _in_entry(error: PointError, starts: npt.NDArray[np.int64]) -> PointError:
    """A position in the concatenated columns as (entry, position in the entry)."""
    entry = int(np.searchsorted(starts, error.index, side="right")) - 1
    return PointError(entry, f"point {error.index - int(starts[entry])}: {error.reason}")
