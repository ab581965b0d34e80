"""DASHBOARD sections: each widget of a dashboard, read as the dashboard shows it (with the
section's variable values), as a chart, a table or text."""

from __future__ import annotations

from typing import Any

from domain.dashboards.queries import GetDashboardDataQuery
from domain.dashboards.read_models import DashboardData, WidgetData
from domain.messagebus import Ask
from domain.reports.document import (
    Cell,
    ChartSection,
    Section,
    SeriesLine,
    TableSection,
    TextSection,
)
from domain.reports.model import SectionSpec
from domain.reports.ports import Window

__all__ = ["read_dashboard"]


async def read_dashboard(
    ask: Ask, project: str, spec: SectionSpec, window: Window
) -> list[Section]:
    data: DashboardData = await ask(
        GetDashboardDataQuery(
            project,
            spec.dashboard_id,
            start_us=window.start_us,
            end_us=window.end_us,
            variables=dict(spec.variables),
        )
    )
    widgets = {w.id: w for w in data.dashboard.spec.widgets}
    prefix = spec.title or data.dashboard.name
    sections: list[Section] = [
        _widget(f"{prefix}: {widgets[d.widget_id].title or d.widget_id}", widgets[d.widget_id], d)
        for d in data.widgets
        if d.widget_id in widgets
    ]
    return sections


def _widget(title: str, widget: Any, data: WidgetData) -> Section:
    """`widget` is the dashboard's Widget (its kind, title, unit, text)."""
    kind = str(widget.kind.value)
    note = data.error or ""
    if kind == "text":
        return TextSection(title, widget.text)
    if kind == "timeseries":
        lines = [
            SeriesLine(line.label, data.timestamps_us, line.values, dict(line.tags))
            for line in data.lines
        ]
        step = (data.step_us or 0) // 1_000_000
        return ChartSection(title, lines, unit=widget.unit, step_seconds=step, note=note)
    if kind == "alertList":
        rows: list[list[Cell]] = [
            [a.alert.rule.name, a.state.value, a.severity.value] for a in data.alerts
        ]
        return TableSection(title, ["alert", "state", "severity"], rows, note=note)
    if kind == "table":
        table: list[list[Cell]] = [
            [", ".join(f"{k}={v}" for k, v in sorted(r.tags.items())), r.value] for r in data.rows
        ]
        return TableSection(title, ["series", "value"], table, note=note)
    return TableSection(title, ["value", "unit"], [[data.value, widget.unit]], note=note)
