"""Checks of a report definition before it is stored: bad input changes nothing."""

from __future__ import annotations

from dataclasses import replace

from domain.analytics.queries import GetAnalyticsJobQuery
from domain.dashboards.queries import GetDashboardQuery
from domain.errors import BadUserInput, NotFound
from domain.matchers import MatchOp
from domain.messagebus import Ask
from domain.metrics.model import Aggregation
from domain.notifications.ports import NotificationStore
from domain.reports.model import Report, SectionKind, SectionSpec
from domain.reports.schedule import parse_schedule
from domain.reports.timerange import check_range, check_timezone

__all__ = ["MAX_SECTIONS", "checked_report"]

MAX_TITLE = 200
MAX_SECTIONS = 50
MAX_MARKDOWN = 20_000
MAX_RECIPIENTS = 20
MAX_RETENTION_DAYS = 3_650
MAX_GROUP_BY = 10
MAX_STEP_SECONDS = 366 * 86_400


async def checked_report(report: Report, ask: Ask, channels: NotificationStore) -> Report:
    """The definition with its range normalised, or BadUserInput naming what is wrong."""
    title = report.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise BadUserInput(f"title must be 1 to {MAX_TITLE} characters")
    check_timezone(report.timezone)
    time_range = check_range(report.time_range)
    if not 1 <= len(report.sections) <= MAX_SECTIONS:
        raise BadUserInput(f"a report has 1 to {MAX_SECTIONS} sections")
    for index, section in enumerate(report.sections):
        await _check_section(index, section, report.project, ask)
    if report.schedule is not None:
        s = report.schedule
        parse_schedule(s.kind.value, s.expression, s.timezone)
    if len(report.recipients) > MAX_RECIPIENTS or len(set(report.recipients)) != len(
        report.recipients
    ):
        raise BadUserInput(f"recipients are at most {MAX_RECIPIENTS} distinct channel ids")
    for channel_id in report.recipients:
        if await channels.get_channel(report.project, channel_id) is None:
            raise BadUserInput(f"recipients: no notification channel {channel_id!r} here")
    if not 1 <= report.artefact_retention_days <= MAX_RETENTION_DAYS:
        raise BadUserInput(f"artefactRetentionDays must be between 1 and {MAX_RETENTION_DAYS}")
    return replace(report, title=title, time_range=time_range)


async def _check_section(index: int, section: SectionSpec, project: str, ask: Ask) -> None:
    where = f"sections[{index}] ({section.kind.value})"
    if len(section.title) > MAX_TITLE:
        raise BadUserInput(f"{where}: title must be at most {MAX_TITLE} characters")
    if section.kind is SectionKind.DASHBOARD:
        if not section.dashboard_id:
            raise BadUserInput(f"{where}: dashboardId is required")
        try:
            await ask(GetDashboardQuery(project, section.dashboard_id))
        except NotFound:
            raise BadUserInput(f"{where}: no dashboard {section.dashboard_id!r}") from None
    elif section.kind is SectionKind.SERIES:
        if not section.metric:
            raise BadUserInput(f"{where}: metric is required")
        try:
            Aggregation(section.aggregation)
        except ValueError:
            raise BadUserInput(f"{where}: unknown aggregation {section.aggregation!r}") from None
        for _, op, _ in section.matchers:
            try:
                MatchOp(op)
            except ValueError:
                raise BadUserInput(f"{where}: unknown matcher operator {op!r}") from None
    elif section.kind is SectionKind.ANALYTICS:
        if not section.analytics_job_id:
            raise BadUserInput(f"{where}: analyticsJobId is required")
        try:
            await ask(GetAnalyticsJobQuery(project, section.analytics_job_id))
        except NotFound:
            raise BadUserInput(f"{where}: no analytics job {section.analytics_job_id!r}") from None
    elif section.kind is SectionKind.MARKDOWN and (
        not section.markdown.strip() or len(section.markdown) > MAX_MARKDOWN
    ):
        raise BadUserInput(f"{where}: markdown must be 1 to {MAX_MARKDOWN} characters")
    if not 0 <= section.step_seconds <= MAX_STEP_SECONDS:
        raise BadUserInput(f"{where}: step must be between 0 and {MAX_STEP_SECONDS} seconds")
    if len(section.group_by) > MAX_GROUP_BY:
        raise BadUserInput(f"{where}: groupBy takes at most {MAX_GROUP_BY} tags")
