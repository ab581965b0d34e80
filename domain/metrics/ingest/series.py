"""Per-series checks, done once per series and remembered across batches."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from domain.metrics.ingest.batch import IngestLimits, SeriesSpec, series_id
from domain.metrics.model import MetricType

__all__ = [
    "NAME_PATTERN",
    "SeriesCache",
    "SeriesKeyRaw",
    "check_series",
    "nfc_tags",
    "unhashable_reason",
]

# (name, tag items, type, category, source) exactly as sent: hashable, not yet checked
SeriesKeyRaw = tuple[Any, tuple[tuple[Any, Any], ...], Any, Any, Any]

NAME_PATTERN = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.\-]*")
_TAG_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.\-]*")
_TYPES = {t.value: t for t in MetricType}
# Unicode Cc (C0, DEL, C1) and the bidi controls (LRE..RLO, LRI..PDI, LRM, RLM, ALM): text
# that a terminal or a browser shows other than it is stored (issue 12, item 11).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _invisible_reason(field: str, text: str) -> str | None:
    found = _INVISIBLE.search(text)
    if found is None:
        return None
    return f"{field} holds a control or bidi character (U+{ord(found.group()):04X})"


def nfc_tags(tag_items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Tag items sorted, values in NFC: an NFD spelling names the same series. ASCII (the
    usual case) is NFC already and costs one `isascii` per value."""
    if all(value.isascii() for _, value in tag_items):
        return tuple(sorted(tag_items))
    return tuple(sorted((key, unicodedata.normalize("NFC", value)) for key, value in tag_items))


def check_series(key: SeriesKeyRaw, limits: IngestLimits) -> tuple[MetricType, str, str]:
    """Checks that need doing once per series; raises ValueError with the reason."""
    name, tag_items, raw_type, category, source = key
    tags = dict(tag_items)
    if type(name) is not str or not name:
        raise ValueError("name is required and must be text")
    if (reason := _invisible_reason("name", name)) is not None:
        raise ValueError(reason)
    if len(name) > limits.max_name_length:
        raise ValueError(f"name longer than {limits.max_name_length} characters")
    if NAME_PATTERN.fullmatch(name) is None:
        raise ValueError(f"name {name!r} has characters outside [a-zA-Z0-9_:.-]")
    if len(tags) > limits.max_tags:
        raise ValueError(f"more than {limits.max_tags} tags")
    for tag, value in tags.items():
        if type(tag) is str and (reason := _invisible_reason("a tag key", tag)) is not None:
            raise ValueError(reason)
        if len(tag) > limits.max_tag_key_length or _TAG_KEY.fullmatch(tag) is None:
            raise ValueError(f"tag key {tag[:40]!r} is invalid or too long")
        if type(value) is not str:
            raise ValueError(f"tag {tag!r} must have a text value")
        if (reason := _invisible_reason(f"tag {tag!r} value", value)) is not None:
            raise ValueError(reason)
        if len(value) > limits.max_tag_value_length:
            raise ValueError(f"tag {tag!r} value longer than {limits.max_tag_value_length}")
    type_ = _TYPES.get(raw_type or "gauge")
    if type_ is None:
        raise ValueError(f"type must be one of {', '.join(_TYPES)}")
    category = category or ""
    source = source or ""
    if type(category) is not str or type(source) is not str:
        raise ValueError("category and source must be text")
    if len(category) > limits.max_text_length or len(source) > limits.max_text_length:
        raise ValueError(f"category or source longer than {limits.max_text_length}")
    return type_, category, source


def unhashable_reason(tags: dict[Any, Any]) -> str:
    for key, value in tags.items():
        if type(value) is not str:
            return f"tag {key!r} must have a text value"
    return "type, category and source must be text"


class SeriesCache:
    """Series already checked, by project and raw key, so that a collector sending the same
    1,000 series in every batch pays for the checks and the hash once, not per batch
    (they were half of validation's time; docs/performance.md). Bounded: when full, it
    starts again empty."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._specs: dict[tuple[Any, ...], SeriesSpec] = {}
        # Collectors hand the same decoded series objects request after request: found by
        # identity, they cost one lookup instead of a key built from their tags. The entry
        # holds the object, so its id cannot be reused by another while it is here.
        self._objects: dict[tuple[int, str, str, str], tuple[object, SeriesSpec]] = {}
        self._events: dict[int, tuple[SeriesSpec, dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._specs)

    def spec(self, project: str, key: SeriesKeyRaw, limits: IngestLimits) -> SeriesSpec:
        """The checked series of a raw key; raises ValueError with the reason if bad.

        The key's tag items may come in any order; the series id uses them sorted.
        """
        cache_key = (project, *key)
        spec = self._specs.get(cache_key)
        if spec is None:
            type_, category, source = check_series(key, limits)
            tag_items = nfc_tags(key[1])
            sid = series_id(project, key[0], tag_items)
            spec = SeriesSpec(sid, key[0], dict(tag_items), type_, category, source)
            if len(self._specs) >= self.max_entries:
                self._specs.clear()
            self._specs[cache_key] = spec
        return spec

    def spec_of_object(
        self, project: str, series: Any, category: str, source: str, limits: IngestLimits
    ) -> SeriesSpec:
        """The checked series of an object with `name`, `tags` and `type` (a collector's
        decoded series); raises ValueError with the reason if bad."""
        key = (id(series), project, category, source)
        entry = self._objects.get(key)
        if entry is not None and entry[0] is series:
            return entry[1]
        raw = (series.name, tuple(series.tags.items()), series.type, category, source)
        spec = self.spec(project, raw, limits)
        if len(self._objects) >= self.max_entries:
            self._objects.clear()
        self._objects[key] = (series, spec)
        return spec

    def event_form(self, spec: SeriesSpec) -> dict[str, Any]:
        """The series as MetricCollectedEvent carries it, built once per series. Shared:
        read-only for everyone who receives it."""
        entry = self._events.get(spec.id)
        if entry is not None and (entry[0] is spec or entry[0] == spec):
            return entry[1]  # the cache hands out one spec object per series: `is` mostly
        form = {
            "id": spec.id,
            "name": spec.name,
            "tags": spec.tags,
            "type": spec.type.value,
            "category": spec.category,
            "source": spec.source,
        }
        if len(self._events) >= self.max_entries:
            self._events.clear()
        self._events[spec.id] = (spec, form)
        return form
