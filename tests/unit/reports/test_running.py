"""run_report with in-memory stores: what a run records when a section or the renderer
fails, the range a scheduled slot gets, and the event it leaves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.messagebus import Ask
from domain.reports.commands import ExpireReportArtefactsCommand, RunReportCommand
from domain.reports.document import Artefact, ReportDocument, Section, TextSection
from domain.reports.events import ReportGeneratedEvent
from domain.reports.handlers import expire_report_artefacts
from domain.reports.model import (
    Report,
    ReportFormat,
    ReportRun,
    RunStatus,
    RunTrigger,
    SectionKind,
    SectionSpec,
)
from domain.reports.ports import SectionReader, Window
from domain.reports.queries import GetReportQuery
from domain.reports.running import run_report
from tests.unit.fakes import NOW_US, FakeClock
from tests.unit.reports.fakes import MemoryArtefactStore, MemoryReportStore

HOUR_US = 3_600_000_000
REPORT = Report(
    id="r1",
    project="demo",
    title="Daily",
    time_range="24h",
    timezone="UTC",
    format=ReportFormat.JSON,
    sections=(
        SectionSpec(SectionKind.MARKDOWN, "intro", markdown="hi"),
        SectionSpec(SectionKind.USAGE, "usage"),
    ),
    created_at_us=0,
    created_by="erin",
)


async def _no_ask(query: Any) -> Any:
    raise AssertionError(f"nothing should be asked: {query}")


async def _text(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    return [TextSection(spec.title, f"{window.start_us}..{window.end_us}")]


async def _refused(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    raise BadUserInput("usage is not measured yet")


def _render(document: ReportDocument, fmt: str) -> list[Artefact]:
    body = "|".join(s.markdown for s in document.sections if isinstance(s, TextSection))
    return [Artefact("daily.txt", "text/plain", body.encode())]


def _broken(document: ReportDocument, fmt: str) -> list[Artefact]:
    raise RuntimeError("the layout engine fell over")


async def _run(
    readers: dict[SectionKind, SectionReader],
    renderer: Any = _render,
    command: RunReportCommand | None = None,
) -> tuple[Any, MemoryReportStore, MemoryArtefactStore, list[Event]]:
    reports, files, events = MemoryReportStore(), MemoryArtefactStore(), []
    await reports.save_report(REPORT)
    run = await run_report(
        command or RunReportCommand("demo", "r1"),
        events,
        reports=reports,
        report_artefacts=files,
        report_readers=readers,
        report_renderer=renderer,
        ask=_no_ask,
        clock=FakeClock(NOW_US),
    )
    return run, reports, files, events


async def test_a_scheduled_slot_is_the_end_of_its_range() -> None:
    slot = NOW_US - 5 * HOUR_US
    readers = {SectionKind.MARKDOWN: _text, SectionKind.USAGE: _text}
    command = RunReportCommand("demo", "r1", trigger="schedule", slot_us=slot)
    run, reports, files, events = await _run(readers, command=command)
    assert run.status is RunStatus.OK and (run.from_us, run.to_us) == (slot - 24 * HOUR_US, slot)
    expected = f"{slot - 24 * HOUR_US}..{slot}"
    assert files.files[("demo", run.id, "daily.txt")].content == f"{expected}|{expected}".encode()
    assert [r.status for r in reports.saved_runs] == [RunStatus.RUNNING, RunStatus.OK]
    (event,) = events
    assert isinstance(event, ReportGeneratedEvent)
    assert (event.trigger, event.slot_us, event.status, event.files) == (
        "schedule",
        slot,
        "ok",
        ["daily.txt"],
    )


async def test_a_kind_without_a_reader_fails_the_run_with_its_name() -> None:
    run, reports, files, events = await _run({SectionKind.MARKDOWN: _text})
    assert run.status is RunStatus.FAILED
    assert run.error == "section 2 (USAGE: usage): this Vigil has no reader for USAGE sections"
    assert files.files == {} and run.files == () and run.bytes == 0
    assert reports.runs[run.id] == run
    assert [e.status for e in events if isinstance(e, ReportGeneratedEvent)] == ["failed"]


async def test_a_refused_section_fails_the_run_and_nothing_is_rendered() -> None:
    rendered: list[str] = []

    def spy(document: ReportDocument, fmt: str) -> list[Artefact]:
        rendered.append(fmt)
        return _render(document, fmt)

    run, _, files, _ = await _run({SectionKind.MARKDOWN: _text, SectionKind.USAGE: _refused}, spy)
    assert run.status is RunStatus.FAILED
    assert run.error == "section 2 (USAGE: usage): usage is not measured yet"
    assert rendered == [] and files.files == {}


async def test_a_failing_renderer_fails_the_run_and_keeps_no_file() -> None:
    readers = {SectionKind.MARKDOWN: _text, SectionKind.USAGE: _text}
    run, _, files, events = await _run(readers, _broken)
    assert run.status is RunStatus.FAILED
    assert run.error == "RuntimeError: the layout engine fell over"
    assert files.files == {}
    assert isinstance(events[0], ReportGeneratedEvent) and events[0].error == run.error


async def test_an_unknown_report_or_trigger_is_refused_before_anything_runs() -> None:
    with pytest.raises(NotFound):
        await _run({}, command=RunReportCommand("other", "r1"))
    with pytest.raises(BadUserInput, match="trigger"):
        await _run({}, command=RunReportCommand("demo", "r1", trigger="cron"))


async def test_a_runs_reads_are_reported_to_the_query_audit_as_the_report() -> None:
    seen: list[tuple[str, str, str]] = []

    class Audit:
        def query_asked(self, query: Any, caller: Any) -> None:
            seen.append((type(query).__name__, caller.actor, caller.role_in("demo")))

    async def asking(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
        return [TextSection(spec.title, str(await ask(GetReportQuery(project, "r1"))))]

    async def answer(query: Any) -> Any:
        return "answered"

    reports, files = MemoryReportStore(), MemoryArtefactStore()
    await reports.save_report(REPORT)
    run = await run_report(
        RunReportCommand("demo", "r1"),
        [],
        reports=reports,
        report_artefacts=files,
        report_readers={SectionKind.MARKDOWN: asking, SectionKind.USAGE: asking},
        report_renderer=_render,
        ask=answer,
        clock=FakeClock(NOW_US),
        report_query_audit=Audit(),
    )
    assert run.status is RunStatus.OK
    assert seen == [("GetReportQuery", "report:r1", "report")] * 2


async def test_the_sweep_fails_runs_cut_short_and_expires_old_files() -> None:
    reports, files = MemoryReportStore(), MemoryArtefactStore()
    await reports.save_report(replace(REPORT, artefact_retention_days=1))
    day = 24 * HOUR_US
    base = ReportRun("x", "demo", "r1", RunTrigger.MANUAL, RunStatus.OK, NOW_US, ReportFormat.JSON)
    runs = {
        "stuck": replace(
            base, id="stuck", status=RunStatus.RUNNING, started_us=NOW_US - 2 * HOUR_US
        ),
        "busy": replace(base, id="busy", status=RunStatus.RUNNING, started_us=NOW_US - 60_000_000),
        "old": replace(base, id="old", started_us=NOW_US - 2 * day, files=("a.json",)),
        "new": replace(base, id="new", started_us=NOW_US - HOUR_US, files=("a.json",)),
    }
    for run in runs.values():
        await reports.save_run(run)
        await files.put_artefacts("demo", run.id, [Artefact("a.json", "application/json", b"{}")])
    expired = await expire_report_artefacts(
        ExpireReportArtefactsCommand(), [], reports=reports, report_artefacts=files,
        clock=FakeClock(NOW_US),
    )  # fmt: skip
    assert expired == 1
    status = {k: reports.runs[k].status for k in runs}
    assert status == {
        "stuck": RunStatus.FAILED,
        "busy": RunStatus.RUNNING,
        "old": RunStatus.EXPIRED,
        "new": RunStatus.OK,
    }
    assert reports.runs["stuck"].error.startswith("interrupted")
    assert {k[1] for k in files.files} == {"stuck", "busy", "new"}


async def test_files_stored_before_a_store_failed_are_removed() -> None:
    class Halfway(MemoryArtefactStore):
        async def put_artefacts(self, project: str, run_id: str, artefacts: list[Artefact]) -> None:
            await super().put_artefacts(project, run_id, artefacts[:1])
            raise ConnectionError("the store went away after the first file")

    def two(document: ReportDocument, fmt: str) -> list[Artefact]:
        return [Artefact("a.txt", "text/plain", b"a"), Artefact("b.txt", "text/plain", b"b")]

    reports, files = MemoryReportStore(), Halfway()
    await reports.save_report(REPORT)
    run = await run_report(
        RunReportCommand("demo", "r1"),
        [],
        reports=reports,
        report_artefacts=files,
        report_readers={SectionKind.MARKDOWN: _text, SectionKind.USAGE: _text},
        report_renderer=two,
        ask=_no_ask,
        clock=FakeClock(NOW_US),
    )
    assert run.status is RunStatus.FAILED
    assert run.error == "ConnectionError: the store went away after the first file"
    assert files.files == {}
