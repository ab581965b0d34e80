"""InfluxDB line protocol bodies (`POST /write` 1.x, `POST /api/v2/write` 2.x) decoded into
DecodedPoints.

Field `f` of measurement `m` becomes metric `m.f`, or `m` when the field is `value`; tags stay
tags. Floats, integers (`1i`) and unsigned integers (`1u`) are stored as floats (integers past
2**53 lose precision); booleans as 1.0 and 0.0. String fields are not numbers: they are not
stored, and each one is listed in `rejected`. NaN and Inf are not valid line protocol: 400.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from infra.collectors import scan
from infra.collectors.bodies import DEFAULT_MAX_BODY, inflate
from infra.collectors.decoded import DecodedPoints, DecodedSeries, DecodeError
from infra.collectors.influx.fast import parse_fast
from infra.collectors.influx.keys import KeyError_, series_of_key
from infra.collectors.influx.lines import parse_lines
from infra.collectors.interning import DEFAULT_MAX_SERIES, SeriesInterner

__all__ = ["PRECISIONS", "InfluxParams", "LineProtocolDecoder", "v1_params", "v2_params"]

# Microseconds per unit (a negative entry divides: nanoseconds are floored to microseconds).
PRECISIONS: Final[dict[str, int]] = {
    "n": -1000,
    "ns": -1000,
    "u": 1,
    "us": 1,
    "µ": 1,
    "ms": 1000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
}
_V2_PRECISIONS: Final = frozenset({"ns", "us", "ms", "s"})


@dataclass(frozen=True, slots=True)
class InfluxParams:
    """What the query string of a write says: the precision and where the data goes."""

    precision: str
    database: str  # 1.x `db`, 2.x `bucket`
    org: str = ""


def v1_params(query: Mapping[str, str]) -> InfluxParams:
    """`/write?db=...&precision=...` (1.x: n, u, ms, s, m, h; default nanoseconds)."""
    precision = query.get("precision") or "ns"
    if precision not in PRECISIONS:
        raise DecodeError(400, f"unknown precision {precision!r}; use n, u, ms, s, m or h")
    return InfluxParams(precision, query.get("db", ""))


def v2_params(query: Mapping[str, str]) -> InfluxParams:
    """`/api/v2/write?org=...&bucket=...&precision=...` (ns, us, ms, s; bucket required)."""
    precision = query.get("precision") or "ns"
    if precision not in _V2_PRECISIONS:
        raise DecodeError(400, f"unknown precision {precision!r}; use ns, us, ms or s")
    bucket = query.get("bucket", "")
    if not bucket:
        raise DecodeError(400, "the bucket query parameter is required")
    return InfluxParams(precision, bucket, query.get("org", ""))


class LineProtocolDecoder:
    """Decodes line protocol bodies; keeps a cache of the series keys it has seen."""

    def __init__(
        self, *, max_body: int = DEFAULT_MAX_BODY, max_series: int = DEFAULT_MAX_SERIES
    ) -> None:
        self._max_body = max_body
        self._interner = SeriesInterner(max_entries=max_series)
        self._joined = _JoinedKeys(max_series)

    def decode(
        self,
        body: bytes,
        *,
        now_us: int,
        precision: str = "ns",
        content_encoding: str | None = None,
        extra_tags: Mapping[str, str] | None = None,
    ) -> DecodedPoints:
        """`now_us` stamps lines without a timestamp; `extra_tags` (e.g. `{"db": ...}`) are
        added to every series unless the line has a tag of that name."""
        scale = PRECISIONS.get(precision)
        if scale is None:
            raise DecodeError(400, f"unknown precision {precision!r}")
        data = inflate(body, content_encoding, limit=self._max_body)
        extra = tuple(sorted(extra_tags.items())) if extra_tags else ()
        if scan.compiled is not None:
            scanned = scan.compiled.line_protocol(data, self._joined.suffix(extra))
            if scanned is not None:
                joined, values, raw_stamps = scanned
                stamps = _stamps_or_400(data, raw_stamps, None, scale, now_us, len(values), None)
                series, index = self._joined.index(data, joined)
                return DecodedPoints(series, index, stamps, values)
        fast = parse_fast(data)
        line_of: list[int] | None = None
        rejected: list[tuple[int, str]] = []
        if fast is not None:
            keys, fields, values = fast.keys, fast.fields, fast.values
            raw_stamps = fast.stamps
            present = None
        else:
            parsed = parse_lines(data)
            keys, fields, line_of, rejected = (
                parsed.keys,
                parsed.fields,
                parsed.line_of,
                parsed.rejected,
            )
            values = np.array(parsed.values, dtype=np.float64)
            present = np.array([s is not None for s in parsed.stamps], dtype=np.bool_)
            raw_stamps = np.array([s or 0 for s in parsed.stamps], dtype=np.int64)
        stamps = _stamps_or_400(data, raw_stamps, present, scale, now_us, len(values), line_of)
        series_keys: list[Hashable] = list(zip(keys, fields, repeat(extra), strict=False))
        try:
            series, index = self._interner.index(series_keys, series_of_key)
        except KeyError_ as exc:
            number = _line_number(data, series_keys.index(exc.key), line_of)
            raise DecodeError(400, f"line {number}: {exc.message}") from None
        return DecodedPoints(
            series=series,
            series_index=index,
            timestamps_us=stamps,
            values=values,
            rejected=rejected,
        )


class _JoinedKeys:
    """The series of the compiled scanner's keys, `<key> <field><suffix>` in one bytes
    object (cheaper to hash than a tuple; the suffix stands for the extra tags)."""

    def __init__(self, max_series: int) -> None:
        self._interner = SeriesInterner(max_entries=max_series)
        self._suffixes: dict[tuple[tuple[str, str], ...], bytes] = {}
        self._extras: dict[bytes, tuple[tuple[str, str], ...]] = {}

    def suffix(self, extra: tuple[tuple[str, str], ...]) -> bytes:
        known = self._suffixes.get(extra)
        if known is None:
            if len(self._suffixes) >= _MAX_EXTRAS:
                self._suffixes.clear()
                self._extras.clear()
                self._interner.clear()
            # A newline never occurs in a line: what follows it is the extra tags' number.
            known = self._suffixes[extra] = b"\n%d" % len(self._extras)
            self._extras[known] = extra
        return known

    def index(
        self, data: bytes, joined: list[bytes]
    ) -> tuple[list[DecodedSeries], npt.NDArray[np.int64]]:
        try:
            return self._interner.index(joined, self._series)
        except KeyError_ as exc:
            number = _line_number(data, joined.index(cast(bytes, exc.key)), None)
            raise DecodeError(400, f"line {number}: {exc.message}") from None

    def _series(self, key: Hashable) -> DecodedSeries:
        text, _, suffix = cast(bytes, key).partition(b"\n")
        raw, _, field = text.rpartition(b" ")  # no escapes: the last space is the one
        try:
            return series_of_key((raw, field, self._extras[b"\n" + suffix]))
        except KeyError_ as exc:
            raise KeyError_(key, exc.message) from None


_MAX_EXTRAS = 1_000  # distinct extra tags (a v1 write's database) remembered at once


def _stamps_or_400(
    data: bytes,
    raw: npt.NDArray[np.int64] | None,
    present: npt.NDArray[np.bool_] | None,
    scale: int,
    now_us: int,
    count: int,
    line_of: list[int] | None,
) -> npt.NDArray[np.int64]:
    try:
        return _microseconds(raw, present, scale, now_us, count)
    except _OutOfRange as exc:
        number = _line_number(data, exc.point, line_of)
        raise DecodeError(
            400, f"line {number}: the timestamp is out of range for its precision"
        ) from None


class _OutOfRange(Exception):
    def __init__(self, point: int) -> None:
        self.point = point


def _microseconds(
    raw: npt.NDArray[np.int64] | None,
    present: npt.NDArray[np.bool_] | None,
    scale: int,
    now_us: int,
    count: int,
) -> npt.NDArray[np.int64]:
    if raw is None:
        return np.full(count, now_us, dtype=np.int64)
    if scale < 0:
        stamps = raw // -scale
    else:
        limit = (2**63 - 1) // scale
        outside = np.flatnonzero((raw > limit) | (raw < -limit))
        if len(outside):
            raise _OutOfRange(int(outside[0]))
        stamps = raw * scale
    if present is not None and not present.all():
        stamps[~present] = now_us
    return stamps


def _line_number(data: bytes, point: int, line_of: list[int] | None) -> int:
    if line_of is not None:
        return line_of[point]
    return parse_lines(data).line_of[point]  # the fast path keeps no line numbers
