"""Report query handlers: a report, the project's reports, a report's runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from domain.errors import BadUserInput
from domain.paging import Page, check_first
from domain.ports import Clock
from domain.reports.errors import find_report, find_run
from domain.reports.links import ReportLinks
from domain.reports.model import Report, ReportRun, RunStatus
from domain.reports.ports import ReportStore
from domain.reports.queries import (
    GetReportQuery,
    GetReportRunQuery,
    ListReportRunsQuery,
    ListReportsQuery,
)

__all__ = [
    "ReportRunDto",
    "get_report",
    "get_report_run",
    "list_report_runs",
    "list_reports",
    "run_dto",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReportRunDto:
    """A run and a signed link to each of its files (none once expired or failed)."""

    run: ReportRun
    links: dict[str, str]


def run_dto(run: ReportRun, links: ReportLinks, now_us: int) -> ReportRunDto:
    if run.status is not RunStatus.OK:
        return ReportRunDto(run, {})
    return ReportRunDto(run, {f: links.signed(run.id, f, now_us=now_us) for f in run.files})


async def get_report(query: GetReportQuery, *, reports: ReportStore) -> Report:
    return await find_report(reports, query.project, query.id)


async def list_reports(query: ListReportsQuery, *, reports: ReportStore) -> Page[Report]:
    check_first(query.first)
    found = await reports.list_reports(query.project)
    return _page(found, [r.id for r in found], query.first, query.after, "report")


async def list_report_runs(
    query: ListReportRunsQuery, *, reports: ReportStore, report_links: ReportLinks, clock: Clock
) -> Page[ReportRunDto]:
    check_first(query.first)
    await find_report(reports, query.project, query.report_id)
    runs = await reports.list_runs(query.project, query.report_id)
    page = _page(runs, [r.id for r in runs], query.first, query.after, "run")
    now = clock.now_us()
    return Page([run_dto(r, report_links, now) for r in page.items], page.has_next_page)


async def get_report_run(
    query: GetReportRunQuery, *, reports: ReportStore, report_links: ReportLinks, clock: Clock
) -> ReportRunDto:
    run = await find_run(reports, query.project, query.run_id)
    return run_dto(run, report_links, clock.now_us())


def _page(items: list[T], ids: list[str], first: int, after: str | None, what: str) -> Page[T]:
    if after is not None:
        if after not in ids:
            raise BadUserInput(f"after is not the id of a {what} of this list")
        items = items[ids.index(after) + 1 :]
    return Page(items[:first], has_next_page=len(items) > first)
