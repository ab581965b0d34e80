"""Line protocol bodies without escapes, quotes or comments, split with C-level bytes
methods over the whole body rather than scanned character by character; None for anything
else, which the general reader (lines.py) then reads and names the bad line of."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["FastParsed", "parse_fast"]

# Single bytes (memchr); doubled spaces and blank lines show up as empty tokens instead.
_NOT_SIMPLE: Final = (b"\\", b'"', b"#", b"\r", b"\t")
_FLOAT_CHARS: Final = b"0123456789.-eE"
_INT_CHARS: Final = b"0123456789-"


@dataclass(frozen=True, slots=True)
class FastParsed:
    keys: list[bytes]
    fields: list[bytes]
    values: npt.NDArray[np.float64]
    stamps: npt.NDArray[np.int64] | None  # None: no line has a timestamp


def _number(raw: bytes) -> float:
    last = raw[-1]
    if last == 105 or last == 117:  # 'i' or 'u': digits only before the suffix
        digits = raw[:-1]
        if not digits or digits.translate(None, _INT_CHARS) or (last == 117 and digits[0] == 45):
            raise ValueError(raw)
        number = int(digits)
        if not -(2**63) <= number < (2**64 if last == 117 else 2**63):
            raise ValueError(raw)
        return float(number)
    return float(raw)


def parse_fast(body: bytes) -> FastParsed | None:
    if any(marker in body for marker in _NOT_SIMPLE):
        return None
    text = body[:-1] if body.endswith(b"\n") else body
    if not text or text.startswith(b"\n"):
        return None
    # Every line must have the same number of spaces (1 or 2): then the whole body splits
    # into tokens with a fixed stride, and each column is one slice of that list.
    spaces = set(map(bytes.count, text.split(b"\n"), repeat(b" ")))
    if len(spaces) != 1:
        return None
    stride = spaces.pop() + 1
    if stride not in (2, 3):
        return None
    tokens = text.replace(b"\n", b" ").split(b" ")
    if b"" in tokens:
        return None
    keys, fields = tokens[0::stride], tokens[1::stride]
    stamps = tokens[2::stride] if stride == 3 else None
    pairs = b" ".join(fields)
    if b"," in pairs:  # several fields on some lines: repeat their key and timestamp
        counts = [c + 1 for c in map(bytes.count, fields, repeat(b","))]
        keys = list(chain.from_iterable(map(repeat, keys, counts)))
        if stamps is not None:
            stamps = list(chain.from_iterable(map(repeat, stamps, counts)))
        pairs = pairs.replace(b",", b" ")
    flat = pairs.replace(b"=", b" ").split(b" ")
    if len(flat) != 2 * len(keys) or b"" in flat:
        return None  # a field without '=' or with two
    names, raw_values = flat[0::2], flat[1::2]
    joined = b"".join(raw_values)
    try:
        if not joined.translate(None, _FLOAT_CHARS):
            values = np.array(list(map(float, raw_values)), dtype=np.float64)
        elif not joined.translate(None, _FLOAT_CHARS + b"iu"):
            values = np.array(list(map(_number, raw_values)), dtype=np.float64)
        else:
            return None  # booleans, or something the general reader must name
        if not np.isfinite(values).all():
            return None
        times = None
        if stamps is not None:
            if b"".join(stamps).translate(None, _INT_CHARS):
                return None
            times = np.array(list(map(int, stamps)), dtype=np.int64)
    except (ValueError, OverflowError):
        return None
    return FastParsed(keys, names, values, times)
