"""Reading a widget from a dashboard document: every problem recorded with its path."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, TypeVar

from domain.alerting.model import AlertSeverity, AlertState
from domain.dashboards.parsing import (
    Problems,
    read_flag,
    read_list,
    read_mapping,
    read_number,
    read_text,
)
from domain.dashboards.widgets import (
    COMMON_FIELDS,
    GRID_COLUMNS,
    KIND_FIELDS,
    SECOND_US,
    GridPos,
    SeriesQuery,
    Threshold,
    Widget,
    WidgetKind,
)
from domain.durations import parse_duration
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import Aggregation

__all__ = ["read_widget"]

E = TypeVar("E", bound=StrEnum)

MAX_QUERIES = 10
MAX_THRESHOLDS = 10
MAX_MATCHERS = 32
MAX_GROUP_BY = 16
MAX_TEXT = 20_000
MAX_STEP_US = 366 * 86_400 * SECOND_US

_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.\-]*")  # as ingest checks metric names
_TAG_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.\-]*")
_WIDGET_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
# A colour the viewer puts into CSS: a hex colour or a plain name, nothing else.
_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-z]{3,20}")

_ALL_FIELDS = COMMON_FIELDS.union(*KIND_FIELDS.values())
_QUERY_FIELDS = frozenset({"metric", "aggregation", "matchers", "groupBy", "step", "rate", "label"})
_ONE_QUERY = (WidgetKind.STAT, WidgetKind.GAUGE, WidgetKind.TABLE)


def read_widget(raw: Any, path: str, problems: Problems, *, fallback_id: str) -> Widget | None:
    """The widget of a document entry, or None when it has problems (recorded)."""
    before = len(problems.items)
    data = read_mapping(raw, path, problems, _ALL_FIELDS)
    kind = _enum(WidgetKind, data.get("kind"), f"{path}.kind", problems, required=True)
    if kind is not None:
        extra = sorted(
            k for k in data if k not in COMMON_FIELDS | KIND_FIELDS[kind] and data[k] is not None
        )
        if extra:
            problems.add(path, f"a {kind.value} widget takes no {', '.join(extra)}")
    widget_id = read_text(data.get("id"), f"{path}.id", problems, max_length=64) or fallback_id
    if _WIDGET_ID.fullmatch(widget_id) is None:
        problems.add(f"{path}.id", "use 1 to 64 letters, digits, _ or -")
    title = read_text(data.get("title"), f"{path}.title", problems, max_length=200)
    layout = _layout(data.get("layout"), f"{path}.layout", problems)
    queries = tuple(
        q
        for i, entry in enumerate(
            read_list(data.get("queries"), f"{path}.queries", problems, max_items=MAX_QUERIES)
        )
        if (q := _query(entry, f"{path}.queries[{i}]", problems)) is not None
    )
    if kind is WidgetKind.TIMESERIES and not data.get("queries"):
        problems.add(f"{path}.queries", "a timeseries widget needs at least one query")
    if kind in _ONE_QUERY and len(data.get("queries") or ()) != 1:
        problems.add(f"{path}.queries", f"a {kind} widget takes exactly one query")
    thresholds = _thresholds(data.get("thresholds"), f"{path}.thresholds", problems)
    low, high = (
        read_number(data.get(k), f"{path}.{k}", problems, minimum=-1e300, maximum=1e300)
        for k in ("min", "max")
    )
    if kind is WidgetKind.GAUGE:
        low, high = 0.0 if low is None else low, 100.0 if high is None else high
        if low >= high:
            problems.add(f"{path}.max", "must be above min")
    text = read_text(data.get("text"), f"{path}.text", problems, max_length=MAX_TEXT)
    state = _enum(AlertState, data.get("alertState"), f"{path}.alertState", problems)
    severity = _enum(AlertSeverity, data.get("alertSeverity"), f"{path}.alertSeverity", problems)
    unit = read_text(data.get("unit"), f"{path}.unit", problems, max_length=20)
    anomalies = read_flag(data.get("anomalies"), f"{path}.anomalies", problems)
    change_points = read_flag(data.get("changePoints"), f"{path}.changePoints", problems)
    forecast_us = _horizon(data.get("forecast"), f"{path}.forecast", problems)
    if kind is None or len(problems.items) > before:
        return None
    return Widget(
        widget_id,
        kind,
        title,
        layout,
        queries,
        thresholds,
        unit,
        low,
        high,
        text,
        state,
        severity,
        anomalies,
        forecast_us,
        change_points,
    )


def _horizon(raw: Any, path: str, problems: Problems) -> int | None:
    """A forecast's horizon: how far past the range the chart extends, 1 s to 366 days."""
    if raw is None:
        return None
    try:
        horizon_us = parse_duration(raw, "forecast")
    except BadUserInput as exc:
        problems.add(path, exc.message.removeprefix("forecast "))
        return None
    if horizon_us < SECOND_US:
        problems.add(path, "must be at least one second")
        return None
    return horizon_us


def _layout(raw: Any, path: str, problems: Problems) -> GridPos:
    data = read_mapping(raw, path, problems, frozenset({"x", "y", "w", "h"}))
    limits = {"x": (0, GRID_COLUMNS - 1), "y": (0, 10_000), "w": (1, GRID_COLUMNS), "h": (1, 100)}
    values = {}
    for key, (low, high) in limits.items():
        if data and data.get(key) is None:
            problems.add(f"{path}.{key}", "is required")
        number = read_number(
            data.get(key), f"{path}.{key}", problems, minimum=low, maximum=high, integer=True
        )
        values[key] = int(number) if number is not None else low
    if values["x"] + values["w"] > GRID_COLUMNS:
        problems.add(path, f"x + w must be at most {GRID_COLUMNS} (the grid's width)")
    return GridPos(**values)


def _query(raw: Any, path: str, problems: Problems) -> SeriesQuery | None:
    before = len(problems.items)
    data = read_mapping(raw, path, problems, _QUERY_FIELDS)
    metric = read_text(
        data.get("metric"), f"{path}.metric", problems, max_length=200, required=True
    )
    if metric and _METRIC.fullmatch(metric) is None:
        problems.add(f"{path}.metric", f"{metric!r} is not a metric name")
    aggregation = _aggregation(data.get("aggregation"), f"{path}.aggregation", problems)
    matchers = tuple(
        m
        for i, entry in enumerate(
            read_list(data.get("matchers"), f"{path}.matchers", problems, max_items=MAX_MATCHERS)
        )
        if (m := _matcher(entry, f"{path}.matchers[{i}]", problems)) is not None
    )
    group_by = None
    if data.get("groupBy") is not None:
        keys = read_list(data["groupBy"], f"{path}.groupBy", problems, max_items=MAX_GROUP_BY)
        for key in keys:
            if not isinstance(key, str) or _TAG_KEY.fullmatch(key) is None:
                problems.add(f"{path}.groupBy", f"{key!r} is not a tag key")
        group_by = tuple(str(k) for k in keys)
    step = read_number(
        data.get("step"), f"{path}.step", problems, minimum=0.001, maximum=MAX_STEP_US / SECOND_US
    )
    rate = data.get("rate", False)
    if not isinstance(rate, bool):
        problems.add(f"{path}.rate", "must be true or false")
    elif rate and aggregation not in (Aggregation.LAST, Aggregation.MAX, None):
        problems.add(f"{path}.rate", "a rate is taken of a counter's last or max value")
    label = read_text(data.get("label"), f"{path}.label", problems, max_length=200)
    if len(problems.items) > before or aggregation is None:
        return None
    return SeriesQuery(
        metric,
        aggregation,
        matchers,
        group_by,
        None if step is None else round(step * SECOND_US),
        bool(rate),
        label,
    )


def _aggregation(raw: Any, path: str, problems: Problems) -> Aggregation | None:
    if raw is None:
        return Aggregation.AVG
    if isinstance(raw, str):
        try:
            return Aggregation(raw.lower())
        except ValueError:
            pass
    names = ", ".join(a.value for a in Aggregation)
    problems.add(path, f"{raw!r} is not an aggregation (one of {names})")
    return None


def _matcher(raw: Any, path: str, problems: Problems) -> TagMatcher | None:
    data = read_mapping(raw, path, problems, frozenset({"key", "op", "value"}))
    key = read_text(data.get("key"), f"{path}.key", problems, max_length=200, required=True)
    value = read_text(data.get("value"), f"{path}.value", problems, max_length=1000, required=False)
    op = _enum(MatchOp, data.get("op", "="), f"{path}.op", problems)
    if key and _TAG_KEY.fullmatch(key) is None:
        problems.add(f"{path}.key", f"{key!r} is not a tag key")
        return None
    if op is None or not key:
        return None
    try:
        return TagMatcher(key, op, value)
    except BadUserInput as exc:
        problems.add(path, exc.message)
        return None


def _thresholds(raw: Any, path: str, problems: Problems) -> tuple[Threshold, ...]:
    found = []
    for i, entry in enumerate(read_list(raw, path, problems, max_items=MAX_THRESHOLDS)):
        data = read_mapping(entry, f"{path}[{i}]", problems, frozenset({"value", "color"}))
        value = read_number(
            data.get("value"), f"{path}[{i}].value", problems, minimum=-1e300, maximum=1e300
        )
        color = read_text(
            data.get("color"), f"{path}[{i}].color", problems, max_length=20, required=True
        )
        if color and _COLOR.fullmatch(color) is None:
            problems.add(f"{path}[{i}].color", "must be #rgb, #rrggbb or a colour name such as red")
        found.append(Threshold(value, color))
    if sum(t.value is None for t in found) > 1:
        problems.add(path, "at most one threshold without a value (the base colour)")
    return tuple(sorted(found, key=lambda t: (t.value is not None, t.value or 0.0)))


def _enum(
    kind: type[E], raw: Any, path: str, problems: Problems, *, required: bool = False
) -> E | None:
    if raw is None:
        if required:
            problems.add(path, "is required")
        return None
    if isinstance(raw, str):
        for member in kind:
            if raw in (member.value, member.name) or raw.lower() == member.value.lower():
                return member
    names = ", ".join(m.value for m in kind)
    problems.add(path, f"{raw!r} is not one of {names}")
    return None
