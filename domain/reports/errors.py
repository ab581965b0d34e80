"""Report errors: the conflict of a stale update, and the look-ups that answer NotFound."""

from __future__ import annotations

from domain.errors import Conflict, NotFound
from domain.reports.model import Report, ReportRun
from domain.reports.ports import ReportStore

__all__ = ["ReportConflict", "find_report", "find_run"]


class ReportConflict(Conflict):
    def __init__(self, report_id: str, current_version: int) -> None:
        super().__init__(f"report {report_id!r}", current_version)


async def find_report(reports: ReportStore, project: str, report_id: str) -> Report:
    """The report, or NotFound: a foreign id answers exactly as a missing one."""
    report = await reports.get_report(project, report_id)
    if report is None:
        raise NotFound(f"no report {report_id!r} in project {project!r}")
    return report


async def find_run(reports: ReportStore, project: str, run_id: str) -> ReportRun:
    run = await reports.get_run(project, run_id)
    if run is None:
        raise NotFound(f"no report run {run_id!r} in project {project!r}")
    return run
