"""Report operations: one thin function per mutation and query, each a command or a query
handed to the bus."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.commands import Command
from domain.reports.commands import (
    CreateReportCommand,
    DeleteReportCommand,
    RunReportCommand,
    UpdateReportCommand,
)
from domain.reports.queries import (
    GetReportQuery,
    GetReportRunQuery,
    ListReportRunsQuery,
    ListReportsQuery,
)
from schema.context import Info
from schema.reports import (
    Report,
    ReportConnection,
    ReportInput,
    ReportRun,
    ReportRunConnection,
)
from schema.types import PageInfo

__all__ = [
    "create_report",
    "delete_report",
    "report",
    "report_run",
    "report_runs",
    "reports",
    "run_report",
    "update_report",
]


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=_actor(info), request_id=info.context.request_id
    )


def _actor(info: Info) -> str:
    return info.context.require_principal().subject


async def create_report(info: Info, project: str, report: ReportInput) -> Report:
    """CreateReportCommand: sections, range, zone, schedule and recipients are checked."""
    command = CreateReportCommand(project, report.to_report(), _actor(info))
    return Report.of(await _handle(info, command))


async def update_report(
    info: Info, project: str, id: strawberry.ID, expected_version: int, report: ReportInput
) -> Report:
    """Replace the whole definition; CONFLICT when it is no longer at `expectedVersion`."""
    command = UpdateReportCommand(
        project, str(id), expected_version, report.to_report(), _actor(info)
    )
    return Report.of(await _handle(info, command))


async def delete_report(info: Info, project: str, id: strawberry.ID) -> bool:
    """The report, its runs and their files."""
    result: bool = await _handle(info, DeleteReportCommand(project, str(id), _actor(info)))
    return result


async def run_report(info: Info, project: str, id: strawberry.ID) -> ReportRun:
    """Produce the report now, over its range ending now; the run says how it ended
    (`status` ok or failed, with `error`), and `reportGenerated` tells subscribers."""
    run = await _handle(info, RunReportCommand(project, str(id), actor=_actor(info)))
    return ReportRun.of(await info.context.bus.ask(GetReportRunQuery(project, run.id)))


async def report(info: Info, project: str, id: strawberry.ID) -> Report:
    return Report.of(await info.context.bus.ask(GetReportQuery(project, str(id))))


async def reports(
    info: Info, project: str, first: int = 100, after: strawberry.ID | None = None
) -> ReportConnection:
    """Oldest first; `after` is the `endCursor` of the previous page."""
    page = await info.context.bus.ask(
        ListReportsQuery(project, first, str(after) if after is not None else None)
    )
    items = [Report.of(r) for r in page.items]
    return ReportConnection(
        items=items,
        page_info=PageInfo(
            end_cursor=items[-1].id if items else None, has_next_page=page.has_next_page
        ),
    )


async def report_runs(
    info: Info,
    project: str,
    report_id: strawberry.ID,
    first: int = 20,
    after: strawberry.ID | None = None,
) -> ReportRunConnection:
    """Newest first; each ok run with a signed link to each of its files."""
    page = await info.context.bus.ask(
        ListReportRunsQuery(
            project, str(report_id), first, str(after) if after is not None else None
        )
    )
    items = [ReportRun.of(r) for r in page.items]
    return ReportRunConnection(
        items=items,
        page_info=PageInfo(
            end_cursor=items[-1].id if items else None, has_next_page=page.has_next_page
        ),
    )


async def report_run(info: Info, project: str, id: strawberry.ID) -> ReportRun:
    return ReportRun.of(await info.context.bus.ask(GetReportRunQuery(project, str(id))))
