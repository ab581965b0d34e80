"""Each kind's compute function: one task in, result items out, in a worker process.

A method's refusal of one series (too short, nothing observed: a ValueError) becomes a
`skipped` item naming the series and the reason, so one bad series does not sink a job.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from domain.analytics.reading import NAME_TAG
from domain.analytics.results import AuditMark
from domain.analytics.series import Grid
from domain.analytics.work import Item, Task, skipped_item
from domain.anomaly.history import score_history
from domain.anomaly.model import DetectorConfig, Direction, Seasonality

if TYPE_CHECKING:
    from infra.analytics import methods
else:

    def _lazy(name: str) -> ModuleType:
        """The module, loaded on its first attribute read (importlib's LazyLoader recipe)."""
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.loader is not None
        loader = importlib.util.LazyLoader(spec.loader)
        spec.loader = loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        return module

    # The methods' libraries (scipy among them) take over a second to import: the server
    # imports this module to name the kinds, and only worker processes (whose fork server
    # preloads them) compute.
    methods = _lazy("infra.analytics.methods")

__all__ = [
    "anomalies",
    "capacity",
    "change_points",
    "comparison",
    "correlation",
    "forecast",
    "seasonality",
    "trend",
]


def _each(task: Task, analyse: Callable[[Grid], Any]) -> list[Item]:
    items: list[Item] = []
    for grid in task.grids:
        try:
            items.append(analyse(grid).to_dict())
        except ValueError as exc:
            items.append(skipped_item(grid.tags, str(exc)))
    return items


def trend(task: Task) -> list[Item]:
    return _each(task, lambda g: methods.trend(g, alpha=task.options["alpha"]))


def seasonality(task: Task) -> list[Item]:
    return _each(task, methods.seasonality)


def change_points(task: Task) -> list[Item]:
    options = task.options
    marks = [AuditMark.from_dict(m) for m in options["marks"]]

    def analyse(grid: Grid) -> Any:
        found = methods.change_points(
            grid, penalty=options["penalty"], min_segment=options["min_segment"]
        )
        return found.with_audit(marks, options["within_us"])

    return _each(task, analyse)


def forecast(task: Task) -> list[Item]:
    options = task.options
    return _each(
        task,
        lambda g: methods.forecast(g, horizon=options["horizon"], period=options["period"]),
    )


def capacity(task: Task) -> list[Item]:
    options = task.options
    usage, *limit_series = task.grids
    limit = limit_series[0] if limit_series else float(options["limit"])
    one = Task(task.kind, (usage,), options)
    return _each(
        one,
        lambda g: methods.capacity(
            g, limit=limit, horizon=options["horizon"], period=options["period"]
        ),
    )


def correlation(task: Task) -> list[Item]:
    options = task.options
    result = methods.correlation(
        task.grids,
        window_start_us=options["window_start_us"],
        window_end_us=options["window_end_us"],
        top=options["top"],
    ).to_dict()
    for ranked in result["ranked"]:  # the metric of each series, out of its tags
        ranked["name"] = ranked["tags"].pop(NAME_TAG, "")
    return [result]


def comparison(task: Task) -> list[Item]:
    options = task.options
    split = options["current"]
    result = methods.comparison(
        task.grids[:split],
        task.grids[split:],
        group_by=options["group_by"],
        quantiles=options["quantiles"],
        top=options["top"],
    )
    return [result.to_dict()]


def anomalies(task: Task) -> list[Item]:
    """Each series' history through a fresh live detector (domain/anomaly/history.py)."""
    options = task.options
    config = DetectorConfig(
        sensitivity=options["sensitivity"],
        direction=Direction(options["direction"]),
        seasonality=Seasonality(options["seasonality"]),
    )
    tz = ZoneInfo(options["timezone"])
    return _each(task, lambda g: score_history(g, config, tz=tz))
