"""The general line protocol reader: every escape, quoted strings, every field type.

Each line gives its raw series key, its fields and its timestamp; values are parsed here,
series keys are unescaped once per series (keys.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from infra.collectors.decoded import DecodeError

__all__ = ["FIELD_TYPES", "Parsed", "parse_lines", "parse_value"]

_FLOAT: Final = re.compile(rb"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INT: Final = re.compile(rb"-?\d+")
_UINT: Final = re.compile(rb"\d+")
_TIMESTAMP: Final = re.compile(rb"-?\d+")
_TRUE: Final = frozenset({b"t", b"T", b"true", b"True", b"TRUE"})
_FALSE: Final = frozenset({b"f", b"F", b"false", b"False", b"FALSE"})
FIELD_TYPES: Final = "float, integer (1i), unsigned (1u), boolean (t/f/true/false), string"


class StringField(Exception):
    """A string value: not a number, so not stored."""


def parse_value(raw: bytes) -> float:
    """The number a field value stands for; booleans are 1.0 and 0.0."""
    if not raw:
        raise ValueError("the field has no value")
    last = raw[-1]
    if raw[0] == 34:  # '"'
        if len(raw) < 2 or last != 34:
            raise ValueError(f"unterminated string {raw.decode(errors='replace')!r}")
        raise StringField
    if last == 105:  # 'i'
        if not _INT.fullmatch(raw, 0, len(raw) - 1):
            raise ValueError(f"invalid integer {raw.decode(errors='replace')!r}")
        number = int(raw[:-1])
        if not -(2**63) <= number < 2**63:
            raise ValueError(f"integer {raw.decode()!r} is out of the int64 range")
        return float(number)
    if last == 117:  # 'u'
        if not _UINT.fullmatch(raw, 0, len(raw) - 1):
            raise ValueError(f"invalid unsigned integer {raw.decode(errors='replace')!r}")
        number = int(raw[:-1])
        if number >= 2**64:
            raise ValueError(f"unsigned {raw.decode()!r} is out of the uint64 range")
        return float(number)
    if raw in _TRUE:
        return 1.0
    if raw in _FALSE:
        return 0.0
    if not _FLOAT.fullmatch(raw):
        # NaN and Inf are not line protocol numbers, nor anything else left here.
        raise ValueError(f"invalid field value {raw.decode(errors='replace')!r}")
    value = float(raw)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"float {raw.decode()!r} is out of range")
    return value


@dataclass(slots=True)
class Parsed:
    """Per field, in wire order: raw key, raw field key, value, timestamp (None: absent)."""

    keys: list[bytes] = field(default_factory=list)
    fields: list[bytes] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    stamps: list[int | None] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)  # 1-based line number of each point
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _sections(line: bytes) -> tuple[bytes, bytes, bytes]:
    """(key, fields, timestamp) split on the spaces outside escapes and quoted strings."""
    n = len(line)
    i = 0
    while i < n and line[i] != 32:
        i += 2 if line[i] == 92 else 1
    if i >= n:
        raise ValueError("missing fields")
    j = i + 1
    quoted = False
    while j < n:
        c = line[j]
        if c == 92:
            j += 2
            continue
        if c == 34 and (quoted or line[j - 1] == 61):  # a string opens right after '='
            quoted = not quoted
        elif c == 32 and not quoted:
            break
        j += 1
    if quoted:
        raise ValueError("unterminated string")
    return line[:i], line[i + 1 : j], line[j + 1 :].strip(b" ")


def _fields(raw: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    start = i = 0
    n = len(raw)
    quoted = False
    while i <= n:
        c = raw[i] if i < n else 44
        if c == 92 and i + 1 < n:
            i += 2
            continue
        if c == 34 and (quoted or (i > 0 and raw[i - 1] == 61)):
            quoted = not quoted
        elif c == 44 and not quoted:
            part = raw[start:i]
            eq = 0
            while eq < len(part) and part[eq] != 61:
                eq += 2 if part[eq] == 92 else 1
            if eq == 0 or eq >= len(part):
                raise ValueError(f"field {part.decode(errors='replace')!r} is not key=value")
            pairs.append((part[:eq], part[eq + 1 :]))
            start = i + 1
        i += 1
    return pairs


def parse_lines(body: bytes) -> Parsed:
    """Every point of the body; DecodeError (400) names the first bad line."""
    out = Parsed()
    point = 0
    for number, line in enumerate(body.split(b"\n"), 1):
        line = line.rstrip(b"\r").lstrip(b" \t")
        if not line or line[0] == 35:  # blank or '#' comment
            continue
        try:
            key, fields, stamp = _sections(line)
            if not key or key[0] == 44:
                raise ValueError("missing measurement")
            if not fields:
                raise ValueError("missing fields")
            timestamp = None
            if stamp:
                if not _TIMESTAMP.fullmatch(stamp):
                    raise ValueError(f"invalid timestamp {stamp.decode(errors='replace')!r}")
                timestamp = int(stamp)
                if not -(2**63) <= timestamp < 2**63:
                    raise ValueError(f"timestamp {stamp.decode()} is out of the int64 range")
            for name, raw in _fields(fields):
                try:
                    value = parse_value(raw)
                except StringField:
                    out.rejected.append(
                        (point, f"line {number}: string field {name.decode()!r} is not stored")
                    )
                    point += 1
                    continue
                out.keys.append(key)
                out.fields.append(name)
                out.values.append(value)
                out.stamps.append(timestamp)
                out.line_of.append(number)
                point += 1
        except (ValueError, UnicodeDecodeError) as exc:
            raise DecodeError(400, f"line {number}: {exc}") from None
    return out
