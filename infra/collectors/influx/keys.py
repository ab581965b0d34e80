"""Line protocol series keys: `measurement,tag=value,...` plus a field key, unescaped.

Escapes follow InfluxDB: a backslash protects the next character while splitting; when the
text is kept, `\\,` and `\\ ` become `,` and space in a measurement, and `\\,`, `\\ `, `\\=`
become `,`, space and `=` in tag keys, tag values and field keys. Any other backslash is kept
as written (InfluxDB does not require backslashes to be escaped there).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Final, cast

from infra.collectors.decoded import DecodedSeries, DecodeError

__all__ = ["KeyError_", "series_of_key", "split_escaped", "unescape_name", "unescape_tag"]

_MEASUREMENT: Final = re.compile(rb"\\([, ])")
_TAG: Final = re.compile(rb"\\([, =])")


class KeyError_(DecodeError):
    """A bad series key; the decoder adds the line number."""

    def __init__(self, key: Hashable, message: str) -> None:
        super().__init__(400, message)
        self.key = key


def split_escaped(text: bytes, separator: int, limit: int = -1) -> list[bytes]:
    """`text` split on `separator` bytes not protected by a backslash."""
    if 92 not in text:  # no backslash: the C split is exact
        return text.split(bytes((separator,)), limit)
    parts: list[bytes] = []
    start = i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == 92:
            i += 2
            continue
        if c == separator and limit != len(parts):
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not valid UTF-8: {raw!r}") from None


def unescape_name(raw: bytes) -> str:
    return _text(_MEASUREMENT.sub(rb"\1", raw) if 92 in raw else raw, "a measurement")


def unescape_tag(raw: bytes, what: str) -> str:
    return _text(_TAG.sub(rb"\1", raw) if 92 in raw else raw, what)


def series_of_key(key: Hashable) -> DecodedSeries:
    """Series of `(raw key, raw field key, extra tags)`: field `f` of `m` is metric `m.f`,
    or `m` when the field is `value`."""
    try:
        return _series(key)
    except ValueError as exc:
        raise KeyError_(key, str(exc)) from None


def _series(key: Hashable) -> DecodedSeries:
    raw, raw_field, extra = cast(tuple[bytes, bytes, tuple[tuple[str, str], ...]], key)
    parts = split_escaped(raw, 44)  # ","
    measurement = unescape_name(parts[0])
    if not measurement:
        raise KeyError_(key, "the measurement is empty")
    tags: dict[str, str] = dict(extra)
    given = set(tags)
    for part in parts[1:]:
        pair = split_escaped(part, 61, 1)  # "="
        if len(pair) != 2 or not pair[0] or not pair[1]:
            raise KeyError_(key, f"tag {part.decode(errors='replace')!r} is not key=value")
        name = unescape_tag(pair[0], "a tag key")
        if name in tags and name not in given:
            raise KeyError_(key, f"tag {name!r} appears twice")
        tags[name] = unescape_tag(pair[1], "a tag value")
    field = unescape_tag(raw_field, "a field key")
    metric = measurement if field == "value" else f"{measurement}.{field}"
    return DecodedSeries(name=metric, tags=tags, type="gauge")
