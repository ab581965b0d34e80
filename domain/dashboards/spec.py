"""What a dashboard is made of (its document): name, widgets, variables and time defaults.

The document is JSON with camelCase keys, durations in seconds; the same form is stored,
exported and imported, and GraphQL inputs are turned into it (docs/dashboards.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.dashboards.parsing import Problems, read_list, read_mapping, read_number, read_text
from domain.dashboards.widget_reading import read_widget
from domain.dashboards.widgets import SECOND_US, Widget

__all__ = [
    "ALL",
    "FORMAT",
    "REFERENCE",
    "DashboardSpec",
    "Variable",
    "read_spec",
    "references",
]

FORMAT = "vigil-dashboard/1"
ALL = "*"  # a variable's value meaning every value of its tag
MAX_WIDGETS = 50
MAX_VARIABLES = 20
DEFAULT_RANGE_US = 3_600 * SECOND_US
DEFAULT_REFRESH_US = 10 * SECOND_US
MAX_RANGE_S = 366 * 86_400

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TAG_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.\-]*")
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.\-]*")
REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_FIELDS = frozenset(
    {"format", "name", "description", "timeRange", "refresh", "variables", "widgets"}
)


def references(text: str) -> list[str]:
    """The variable names that `text` refers to, as `$host` or `${host}`."""
    return [a or b for a, b in REFERENCE.findall(text)]


@dataclass(frozen=True, slots=True)
class Variable:
    """`$name` takes the values of tag `tag` (of `metric` only, if set); ALL is every value."""

    name: str
    tag: str
    metric: str = ""
    default: str = ALL

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tag": self.tag, "metric": self.metric, "default": self.default}


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    name: str
    description: str = ""
    widgets: tuple[Widget, ...] = ()
    variables: tuple[Variable, ...] = ()
    time_range_us: int = DEFAULT_RANGE_US
    refresh_us: int = DEFAULT_REFRESH_US  # 0: live updates only

    def widget(self, widget_id: str) -> Widget | None:
        return next((w for w in self.widgets if w.id == widget_id), None)

    def to_dict(self, *, with_ids: bool = True) -> dict[str, Any]:
        """The document; without ids it is what an export writes."""
        return {
            "format": FORMAT,
            "name": self.name,
            "description": self.description,
            "timeRange": self.time_range_us / SECOND_US,
            "refresh": self.refresh_us / SECOND_US,
            "variables": [v.to_dict() for v in self.variables],
            "widgets": [w.to_dict(with_id=with_ids) for w in self.widgets],
        }


def read_spec(raw: Any) -> DashboardSpec:
    """A valid document, or BadUserInput listing every problem with its path."""
    problems = Problems()
    data = read_mapping(raw, "", problems, _FIELDS)
    if data.get("format", FORMAT) != FORMAT:
        problems.add("format", f"must be {FORMAT!r} (or left out)")
    name = read_text(data.get("name"), "name", problems, max_length=200, required=True)
    description = read_text(data.get("description"), "description", problems, max_length=2_000)
    time_range = read_number(
        data.get("timeRange"), "timeRange", problems, minimum=60, maximum=MAX_RANGE_S
    )
    refresh = read_number(data.get("refresh"), "refresh", problems, minimum=0, maximum=86_400)
    if refresh is not None and 0 < refresh < 1:
        problems.add("refresh", "must be 0 (live updates only) or at least 1 second")
    variables = _variables(data.get("variables"), problems)
    widgets = _widgets(data.get("widgets"), problems)
    declared = {v.name for v in variables}
    for i, widget in enumerate(widgets):
        for j, query in enumerate(widget.queries):
            for k, matcher in enumerate(query.matchers):
                for used in references(matcher.value):
                    if used not in declared:
                        problems.add(
                            f"widgets[{i}].queries[{j}].matchers[{k}].value",
                            f"${used} is not a variable of this dashboard",
                        )
    problems.raise_if_any()
    return DashboardSpec(
        name=name.strip(),
        description=description,
        widgets=tuple(widgets),
        variables=tuple(variables),
        time_range_us=DEFAULT_RANGE_US if time_range is None else round(time_range * SECOND_US),
        refresh_us=DEFAULT_REFRESH_US if refresh is None else round(refresh * SECOND_US),
    )


def _variables(raw: Any, problems: Problems) -> list[Variable]:
    found: list[Variable] = []
    for i, entry in enumerate(read_list(raw, "variables", problems, max_items=MAX_VARIABLES)):
        path = f"variables[{i}]"
        data: Mapping[str, Any] = read_mapping(
            entry, path, problems, frozenset({"name", "tag", "metric", "default"})
        )
        name = read_text(data.get("name"), f"{path}.name", problems, max_length=64, required=True)
        tag = read_text(data.get("tag"), f"{path}.tag", problems, max_length=200, required=True)
        metric = read_text(data.get("metric"), f"{path}.metric", problems, max_length=200)
        default = read_text(data.get("default"), f"{path}.default", problems, max_length=1_000)
        if name and _VARIABLE.fullmatch(name) is None:
            problems.add(f"{path}.name", "use letters, digits and _, not starting with a digit")
        if tag and _TAG_KEY.fullmatch(tag) is None:
            problems.add(f"{path}.tag", f"{tag!r} is not a tag key")
        if metric and _METRIC.fullmatch(metric) is None:
            problems.add(f"{path}.metric", f"{metric!r} is not a metric name")
        if name in {v.name for v in found}:
            problems.add(f"{path}.name", f"${name} is declared twice")
        found.append(Variable(name, tag, metric, default or ALL))
    return found


def _widgets(raw: Any, problems: Problems) -> list[Widget]:
    entries = read_list(raw, "widgets", problems, max_items=MAX_WIDGETS)
    given = {e.get("id") for e in entries if isinstance(e, Mapping)}
    fallback = (f"w{n}" for n in range(1, 10 * MAX_WIDGETS) if f"w{n}" not in given)
    widgets: list[Widget] = []
    for i, entry in enumerate(entries):
        has_id = isinstance(entry, Mapping) and entry.get("id")
        widget = read_widget(
            entry, f"widgets[{i}]", problems, fallback_id="" if has_id else next(fallback)
        )
        if widget is None:
            continue
        if widget.id in {w.id for w in widgets}:
            problems.add(f"widgets[{i}].id", f"{widget.id!r} is used by another widget")
        widgets.append(widget)
    return widgets
