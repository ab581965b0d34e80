"""run_report with in-memory stores: what a run records when a section or the renderer
fails, the range a scheduled slot gets, and the event it leaves."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.messagebus import Ask
from domain.reports.commands import RunReportCommand
from domain.reports.document import Artefact, ReportDocument, Section, TextSection
from domain.reports.events import ReportGeneratedEvent
from domain.reports.model import (
    Report,
    ReportFormat,
    RunStatus,
    SectionKind,
    SectionSpec,
)
from domain.reports.ports import SectionReader, Window
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
