"""What reports need from the outside: a store of definitions and runs, a store of files,
readers of the section kinds, and a renderer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.messagebus import Ask
from domain.reports.document import Artefact, ReportDocument, Section
from domain.reports.model import Report, ReportRun, SectionKind, SectionSpec

__all__ = [
    "ArtefactStore",
    "ReportRenderer",
    "ReportStore",
    "SectionReader",
    "SectionReaders",
    "Window",
]


class ReportStore(Protocol):
    """Definitions and runs; every method but `get_run_by_id` is scoped by project."""

    async def save_report(self, report: Report, *, expected_version: int | None = None) -> bool:
        """Without `expected_version`: insert, False if the project has that id already.
        With it: replace only if the stored report is at that version, else False."""
        ...

    async def get_report(self, project: str, report_id: str) -> Report | None: ...

    async def list_reports(self, project: str | None = None) -> list[Report]:
        """The project's reports (every project's for None), oldest first."""
        ...

    async def delete_report(self, project: str, report_id: str) -> bool:
        """The report and its runs; False if there was none."""
        ...

    async def save_run(self, run: ReportRun) -> None:
        """Insert or replace the run of that id."""
        ...

    async def get_run(self, project: str, run_id: str) -> ReportRun | None: ...

    async def get_run_by_id(self, run_id: str) -> ReportRun | None:
        """Any project's run: for the download edge, which checks the project itself."""
        ...

    async def list_runs(self, project: str, report_id: str) -> list[ReportRun]:
        """Newest first."""
        ...


class ArtefactStore(Protocol):
    """The files runs produced, by project, run and name."""

    async def put_artefacts(self, project: str, run_id: str, artefacts: list[Artefact]) -> None:
        """Store every file of a run (replacing files of the same names)."""
        ...

    async def get_artefact(self, project: str, run_id: str, name: str) -> Artefact | None: ...

    async def delete_artefacts(self, project: str, run_ids: list[str]) -> int:
        """Remove every file of those runs; how many files were removed."""
        ...


@dataclass(frozen=True, slots=True)
class Window:
    """The instants a run covers, and the zone its times are printed in."""

    start_us: int
    end_us: int
    timezone: str


class SectionReader(Protocol):
    """Reads one section of a definition into document sections, through the bus's `ask`
    (so a report sees what its project's users would, with the same checks)."""

    def __call__(
        self, ask: Ask, project: str, spec: SectionSpec, window: Window
    ) -> Awaitable[list[Section]]: ...


SectionReaders = Mapping[SectionKind, SectionReader]

# A ReportDocument to files in a format (infra/reports/render.render); CPU work.
ReportRenderer = Callable[[ReportDocument, str], list[Artefact]]
