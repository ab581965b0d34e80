"""USAGE sections: the project's usage over the report's range: a table by tag group
(points ingested, most series in a bucket, new series), the project's totals of every
figure, and a chart of the points ingested per bucket by group."""

from __future__ import annotations

from domain.messagebus import Ask
from domain.reports.document import Cell, ChartSection, Section, SeriesLine, TableSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window
from domain.reports.readers.series import default_step_us, line_label
from domain.usage.model import COUNTER_FIGURES, GAUGE_FIGURES, UsageReport
from domain.usage.queries import GetUsageQuery

__all__ = ["read_usage"]


async def read_usage(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    step_us = spec.step_seconds * 1_000_000 if spec.step_seconds else default_step_us(window)
    report: UsageReport = await ask(
        GetUsageQuery(project, window.start_us, window.end_us, step_us, spec.group_by)
    )
    title = spec.title or "Usage"
    groups: dict[str, list[int]] = {}
    times = sorted({row.bucket_us for row in report.rows})
    lines: dict[str, dict[int, float]] = {}
    for row in report.rows:
        label = line_label("points", row.group) if row.group else "points"
        cell = groups.setdefault(label, [0, 0, 0])
        cell[0] += row.points
        cell[1] = max(cell[1], row.active_series)
        cell[2] += row.new_series
        lines.setdefault(label, {})[row.bucket_us] = float(row.points)
    columns = ["group", "points", "series (most in a bucket)", "new series"]
    rows: list[list[Cell]] = [[label, *cell] for label, cell in sorted(groups.items())]
    figures: dict[str, float] = {}
    for total in report.totals:
        for name, value in (total.figures or {}).items():
            # Counters add up over the range; a gauge (bytes) is its last sample.
            figures[name] = value if name in GAUGE_FIGURES else figures.get(name, 0.0) + value
    totals: list[list[Cell]] = [
        [name, round(figures.get(name, 0.0), 6)] for name in (*COUNTER_FIGURES, *GAUGE_FIGURES)
    ]
    chart = ChartSection(
        f"{title}: points ingested per bucket",
        [SeriesLine(label, times, [by.get(t) for t in times]) for label, by in lines.items()],
        unit="points",
        step_seconds=step_us // 1_000_000,
    )
    note = "" if rows else "nothing ingested in this range"
    return [
        TableSection(title, columns, rows, note=note),
        TableSection(f"{title}: the project's totals", ["figure", "total"], totals),
        chart,
    ]
