"""ANALYTICS sections: a stored analytics job's result (trend, forecast, capacity,
anomalies, ...) as a table of its scalar fields."""

from __future__ import annotations

import json
from typing import Any

from domain.analytics.queries import GetAnalyticsJobQuery, GetAnalyticsJobResultQuery
from domain.errors import BadUserInput
from domain.messagebus import Ask
from domain.reports.document import Cell, Section, TableSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window

__all__ = ["read_analytics"]

MAX_ROWS = 1_000


async def read_analytics(
    ask: Ask, project: str, spec: SectionSpec, window: Window
) -> list[Section]:
    job = await ask(GetAnalyticsJobQuery(project, spec.analytics_job_id))
    result = await ask(GetAnalyticsJobResultQuery(project, spec.analytics_job_id, first=MAX_ROWS))
    if result is None:
        raise BadUserInput(
            f"analytics job {spec.analytics_job_id!r} has not succeeded (it is {job.state.value})"
        )
    columns: list[str] = []
    for item in result.items:
        for key in item:
            if key not in columns:
                columns.append(key)
    rows = [[_cell(item.get(c)) for c in columns] for item in result.items]
    title = spec.title or f"Analytics: {result.kind.value.lower()}"
    note = f"{result.total} results, the first {len(rows)} shown" if result.has_next_page else ""
    return [TableSection(title, columns, rows, note=note)]


def _cell(value: Any) -> Cell:
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= 200 else text[:197] + "..."
