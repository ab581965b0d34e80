"""COST sections: the costReport of the report's range (OpenCost semantics, domain/cost),
as a table of the groups, the idle capacity and the total to the cent, and, with a step,
a chart of each group's cost per bucket."""

from __future__ import annotations

from domain.cost.queries import GetCostReportQuery
from domain.cost.read_models import CostReportDto, CostRowDto
from domain.messagebus import Ask
from domain.reports.document import Cell, ChartSection, Section, SeriesLine, TableSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window
from domain.reports.readers.series import line_label

__all__ = ["read_cost"]


async def read_cost(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    step_us = spec.step_seconds * 1_000_000 if spec.step_seconds else None
    report: CostReportDto = await ask(
        GetCostReportQuery(
            project,
            window.start_us,
            window.end_us,
            step_us=step_us,
            group_by=spec.group_by or None,
        )
    )
    title = spec.title or "Cost"
    group = ", ".join(report.group_by)
    rows: list[list[Cell]] = [_row(line_label("", r.tags), r) for r in report.rows]
    rows.append(_row("(idle capacity)", report.idle))
    rows.append(["total", str(report.total), None])
    table = TableSection(
        title,
        [group or "group", f"cost ({report.currency})", "efficiency"],
        rows,
        note="efficiency: usage cost / request cost; the rows and idle add up to the total",
    )
    if step_us is None:
        return [table]
    lines = [
        SeriesLine(line_label("", r.tags) or "(idle)", report.timestamps_us, list(r.values), r.tags)
        for r in (*report.rows, report.idle)
    ]
    chart = ChartSection(
        f"{title} per {spec.step_seconds // 60} min",
        lines,
        unit=report.currency,
        step_seconds=spec.step_seconds,
    )
    return [table, chart]


def _row(label: str, row: CostRowDto) -> list[Cell]:
    efficiency = None if row.efficiency is None else round(row.efficiency, 4)
    return [label, str(row.cost), efficiency]
