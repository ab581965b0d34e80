"""Running a report: resolve its range, read every section, render off the event loop,
store the files, record the run and say so (ReportGeneratedEvent).

`run_report` handles RunReportCommand for a user's runReport and for the scheduler alike;
a run that cannot read a section or render is recorded `failed` with the reason, and
never leaves a file behind."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from dataclasses import replace

from domain.errors import BadUserInput, VigilError
from domain.events import Event
from domain.messagebus import Ask, Caller, QueryAudit
from domain.ports import Clock
from domain.queries import Query
from domain.reports.commands import RunReportCommand
from domain.reports.document import ReportDocument, Section
from domain.reports.errors import find_report
from domain.reports.events import ReportGeneratedEvent
from domain.reports.model import Report, ReportRun, RunStatus, RunTrigger
from domain.reports.ports import ArtefactStore, ReportRenderer, ReportStore, SectionReaders, Window
from domain.reports.timerange import resolve_range

__all__ = ["read_document", "run_report"]

logger = logging.getLogger("vigil.reports")


async def run_report(
    command: RunReportCommand,
    events: list[Event],
    *,
    reports: ReportStore,
    report_artefacts: ArtefactStore,
    report_readers: SectionReaders,
    report_renderer: ReportRenderer,
    ask: Ask,
    clock: Clock,
    report_query_audit: QueryAudit | None = None,
) -> ReportRun:
    """`report_query_audit` sees the run's reads as a user's queries are seen (the metric
    read log), asked by `report:<id>`."""
    try:
        trigger = RunTrigger(command.trigger)
    except ValueError:
        raise BadUserInput(
            f"trigger {command.trigger!r} is not one of manual, schedule, catch_up"
        ) from None
    report = await find_report(reports, command.project, command.report_id)
    started = clock.now_us()
    clock_start = time.perf_counter()
    end = command.slot_us or started
    start_us, end_us = resolve_range(report.time_range, report.timezone, end)
    run = ReportRun(
        id=uuid.uuid4().hex,
        project=report.project,
        report_id=report.id,
        trigger=trigger,
        status=RunStatus.RUNNING,
        started_us=started,
        format=report.format,
        from_us=start_us,
        to_us=end_us,
        slot_us=command.slot_us,
        actor=command.actor,
    )
    await reports.save_run(run)
    window = Window(start_us, end_us, report.timezone)
    reads = ask if report_query_audit is None else _audited(ask, report_query_audit, report)
    try:
        document = await read_document(report, run, window, report_readers, reads, clock)
        # Rendering is CPU work (charts, PDF layout): a thread keeps the loop serving.
        artefacts = await asyncio.to_thread(report_renderer, document, report.format.value)
        if not artefacts:
            raise RuntimeError("the renderer produced no file")
        await report_artefacts.put_artefacts(run.project, run.id, artefacts)
    except Exception as exc:
        reason = exc.message if isinstance(exc, VigilError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, VigilError):
            logger.exception("report %s of project %s failed", report.id, report.project)
        try:  # files of a store that failed halfway through them go too
            await report_artefacts.delete_artefacts(run.project, [run.id])
        except Exception:
            logger.exception("report run %s left files it could not remove", run.id)
        run = replace(
            run,
            status=RunStatus.FAILED,
            error=reason,
            finished_us=clock.now_us(),
            duration_ms=(time.perf_counter() - clock_start) * 1_000,
        )
    else:
        main = artefacts[0].content
        run = replace(
            run,
            status=RunStatus.OK,
            finished_us=clock.now_us(),
            duration_ms=(time.perf_counter() - clock_start) * 1_000,
            bytes=len(main),
            sha256=hashlib.sha256(main).hexdigest(),
            files=tuple(a.name for a in artefacts),
        )
    await reports.save_run(run)
    events.append(_event(run))
    return run


async def read_document(
    report: Report,
    run: ReportRun,
    window: Window,
    readers: SectionReaders,
    ask: Ask,
    clock: Clock,
) -> ReportDocument:
    """Every section read in order; the first that fails fails the whole document."""
    sections: list[Section] = []
    for index, spec in enumerate(report.sections):
        reader = readers.get(spec.kind)
        where = f"section {index + 1} ({spec.kind.value}{': ' + spec.title if spec.title else ''})"
        if reader is None:
            raise BadUserInput(f"{where}: this Vigil has no reader for {spec.kind.value} sections")
        try:
            sections.extend(await reader(ask, report.project, spec, window))
        except VigilError as exc:
            raise BadUserInput(f"{where}: {exc.message}") from exc
    return ReportDocument(
        title=report.title,
        project=report.project,
        from_us=window.start_us,
        to_us=window.end_us,
        timezone=window.timezone,
        generated_at_us=clock.now_us(),
        sections=sections,
        report_id=report.id,
        run_id=run.id,
    )


def _audited(ask: Ask, audit: QueryAudit, report: Report) -> Ask:
    caller = Caller(f"report:{report.id}", {report.project: "report"})

    async def asked(query: Query) -> object:
        audit.query_asked(query, caller)
        return await ask(query)

    return asked


def _event(run: ReportRun) -> ReportGeneratedEvent:
    return ReportGeneratedEvent(
        project=run.project,
        report_id=run.report_id,
        run_id=run.id,
        format=run.format.value,
        bytes=run.bytes,
        sha256=run.sha256,
        duration_ms=round(run.duration_ms, 3),
        at_us=run.finished_us or run.started_us,
        trigger=run.trigger.value,
        status="ok" if run.status is RunStatus.OK else "failed",
        error=run.error,
        slot_us=run.slot_us,
        files=list(run.files),
    )
