"""A dashboard's queries checked against the project's metrics catalogue before saving."""

from __future__ import annotations

from domain.dashboards.parsing import Problems
from domain.dashboards.spec import DashboardSpec
from domain.metrics.ports import MetricStore

__all__ = ["check_catalogue"]


async def check_catalogue(metrics: MetricStore, project: str, spec: DashboardSpec) -> None:
    """Raise BadUserInput naming every query (and variable) over a metric the project has
    no points of: a typo would otherwise save a dashboard that stays empty."""
    known: dict[str, bool] = {}

    async def exists(metric: str) -> bool:
        if metric not in known:
            found = await metrics.metric_names(project, metric, 1)
            known[metric] = found == [metric]
        return known[metric]

    problems = Problems()
    for i, widget in enumerate(spec.widgets):
        for j, query in enumerate(widget.queries):
            if not await exists(query.metric):
                problems.add(
                    f"widgets[{i}].queries[{j}].metric",
                    f"unknown metric {query.metric!r}: project {project!r} has no points of it",
                )
    for i, variable in enumerate(spec.variables):
        if variable.metric and not await exists(variable.metric):
            problems.add(
                f"variables[{i}].metric",
                f"unknown metric {variable.metric!r}: project {project!r} has no points of it",
            )
    problems.raise_if_any()
