"""COST sections: the project's costReport over the report's range, as a table (each owner
group, then idle, then the total, to the cent) and a chart of each group's cost per bucket."""

from __future__ import annotations

from domain.cost.queries import GetCostReportQuery
from domain.cost.read_models import CostReportDto, CostRowDto
from domain.messagebus import Ask
from domain.reports.document import Cell, ChartSection, Section, SeriesLine, TableSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window
from domain.reports.readers.series import default_step_us, line_label

__all__ = ["read_cost"]


async def read_cost(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    step_us = spec.step_seconds * 1_000_000 if spec.step_seconds else default_step_us(window)
    report: CostReportDto = await ask(
        GetCostReportQuery(
            project,
            window.start_us,
            window.end_us,
            step_us=step_us,
            group_by=spec.group_by or None,
        )
    )
    currency = report.currency
    columns = ["group", f"cost ({currency})", "efficiency"]
    rows: list[list[Cell]] = [_row(_group(r), r) for r in report.rows]
    rows.append(_row("idle", report.idle))
    rows.append(["total", str(report.total), None])
    title = spec.title or "Cost"
    lines = [
        SeriesLine(_group(r), report.timestamps_us, list(r.values), dict(r.tags))
        for r in [*report.rows, report.idle]
    ]
    chart = ChartSection(
        f"{title}, per bucket", lines, unit=currency, step_seconds=step_us // 1_000_000
    )
    note = "" if report.rows else "no priced usage in this range (see configurePricing)"
    return [TableSection(title, columns, rows, note=note), chart]


def _group(row: CostRowDto) -> str:
    return line_label("cost", row.tags) if row.tags else "idle"


def _row(label: str, row: CostRowDto) -> list[Cell]:
    efficiency = None if row.efficiency is None else round(row.efficiency, 3)
    return [label, str(row.cost), efficiency]
