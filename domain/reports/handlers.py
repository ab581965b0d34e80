"""Report command handlers: create, update, delete, and the artefact retention sweep (the
run is in running.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain.changes import note_changes, note_target
from domain.events import Event
from domain.messagebus import Ask
from domain.notifications.ports import NotificationStore
from domain.ports import Clock
from domain.reports.checking import checked_report
from domain.reports.commands import (
    CreateReportCommand,
    DeleteReportCommand,
    ExpireReportArtefactsCommand,
    UpdateReportCommand,
)
from domain.reports.errors import ReportConflict, find_report
from domain.reports.model import Report, RunStatus
from domain.reports.ports import ArtefactStore, ReportStore

__all__ = ["create_report", "delete_report", "expire_report_artefacts", "update_report"]

DAY_US = 86_400_000_000
# A run still `running` this long after it started was cut short (its instance stopped):
# the sweep records it failed, so that it does not read as running forever.
STALE_RUN_US = 3_600_000_000


async def create_report(
    command: CreateReportCommand,
    events: list[Event],
    *,
    reports: ReportStore,
    notification_store: NotificationStore,
    ask: Ask,
    clock: Clock,
) -> Report:
    now = clock.now_us()
    report = replace(
        command.definition,
        id=uuid.uuid4().hex,
        project=command.project,
        created_at_us=now,
        created_by=command.actor,
        updated_at_us=None,
        updated_by="",
        version=1,
    )
    report = await checked_report(report, ask, notification_store)
    while not await reports.save_report(report):  # an id is never reused
        report = replace(report, id=uuid.uuid4().hex)
    note_target(report=report.id)
    note_changes(None, report.to_dict())
    return report


async def update_report(
    command: UpdateReportCommand,
    events: list[Event],
    *,
    reports: ReportStore,
    notification_store: NotificationStore,
    ask: Ask,
    clock: Clock,
) -> Report:
    current = await find_report(reports, command.project, command.report_id)
    if current.version != command.expected_version:
        raise ReportConflict(current.id, current.version)
    changed = current.changed(command.definition, at_us=clock.now_us(), by=command.actor)
    changed = await checked_report(changed, ask, notification_store)
    note_target(report=current.id)
    note_changes(current.to_dict(), changed.to_dict())
    if not await reports.save_report(changed, expected_version=current.version):
        latest = await find_report(reports, current.project, current.id)
        raise ReportConflict(current.id, latest.version)
    return changed


async def delete_report(
    command: DeleteReportCommand,
    events: list[Event],
    *,
    reports: ReportStore,
    report_artefacts: ArtefactStore,
) -> bool:
    report = await find_report(reports, command.project, command.report_id)
    runs = await reports.list_runs(report.project, report.id)
    note_target(report=report.id)
    note_changes(report.to_dict(), None)
    await report_artefacts.delete_artefacts(report.project, [r.id for r in runs])
    return await reports.delete_report(report.project, report.id)


async def expire_report_artefacts(
    command: ExpireReportArtefactsCommand,
    events: list[Event],
    *,
    reports: ReportStore,
    report_artefacts: ArtefactStore,
    clock: Clock,
) -> int:
    """The runs whose files were removed now: those older than their report's retention.
    Runs cut short long ago are recorded failed on the way."""
    now = clock.now_us()
    expired = 0
    for report in await reports.list_reports(None):
        horizon = now - report.artefact_retention_days * DAY_US
        runs = await reports.list_runs(report.project, report.id)
        for run in runs:
            if run.status is RunStatus.RUNNING and run.started_us < now - STALE_RUN_US:
                reason = "interrupted: the instance running it stopped before it finished"
                await reports.save_run(replace(run, status=RunStatus.FAILED, error=reason))
        old = [run for run in runs if run.status is RunStatus.OK and run.started_us < horizon]
        if not old:
            continue
        await report_artefacts.delete_artefacts(report.project, [run.id for run in old])
        for run in old:
            await reports.save_run(replace(run, status=RunStatus.EXPIRED))
        expired += len(old)
    return expired
