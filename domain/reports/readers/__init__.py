"""Section readers: one per kind of section this build reads itself. The app may add or
replace readers in the same table (`default_readers` | extra)."""

from __future__ import annotations

from domain.reports.model import SectionKind
from domain.reports.ports import SectionReader
from domain.reports.readers.alerts import read_alerts
from domain.reports.readers.analytics import read_analytics
from domain.reports.readers.cost import read_cost
from domain.reports.readers.dashboards import read_dashboard
from domain.reports.readers.series import read_series
from domain.reports.readers.text import read_markdown
from domain.reports.readers.usage import read_usage

__all__ = ["default_readers"]


def default_readers() -> dict[SectionKind, SectionReader]:
    return {
        SectionKind.SERIES: read_series,
        SectionKind.DASHBOARD: read_dashboard,
        SectionKind.ANALYTICS: read_analytics,
        SectionKind.ALERTS: read_alerts,
        SectionKind.MARKDOWN: read_markdown,
        SectionKind.COST: read_cost,
        SectionKind.USAGE: read_usage,
    }
