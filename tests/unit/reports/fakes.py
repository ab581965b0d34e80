"""In-memory ReportStore and ArtefactStore for unit tests of the report handlers."""

from __future__ import annotations

from domain.reports.document import Artefact
from domain.reports.model import Report, ReportRun


class MemoryReportStore:
    def __init__(self) -> None:
        self.reports: dict[tuple[str, str], Report] = {}
        self.runs: dict[str, ReportRun] = {}
        self.saved_runs: list[ReportRun] = []  # every save, in order

    async def save_report(self, report: Report, *, expected_version: int | None = None) -> bool:
        key = (report.project, report.id)
        current = self.reports.get(key)
        if (expected_version is None) != (current is None):
            return False
        if current is not None and current.version != expected_version:
            return False
        self.reports[key] = report
        return True

    async def get_report(self, project: str, report_id: str) -> Report | None:
        return self.reports.get((project, report_id))

    async def list_reports(self, project: str | None = None) -> list[Report]:
        found = [r for r in self.reports.values() if project in (None, r.project)]
        return sorted(found, key=lambda r: (r.created_at_us, r.id))

    async def delete_report(self, project: str, report_id: str) -> bool:
        self.runs = {
            k: r for k, r in self.runs.items() if (r.project, r.report_id) != (project, report_id)
        }
        return self.reports.pop((project, report_id), None) is not None

    async def save_run(self, run: ReportRun) -> None:
        self.runs[run.id] = run
        self.saved_runs.append(run)

    async def get_run(self, project: str, run_id: str) -> ReportRun | None:
        run = self.runs.get(run_id)
        return run if run is not None and run.project == project else None

    async def get_run_by_id(self, run_id: str) -> ReportRun | None:
        return self.runs.get(run_id)

    async def list_runs(self, project: str, report_id: str) -> list[ReportRun]:
        found = [r for r in self.runs.values() if (r.project, r.report_id) == (project, report_id)]
        return sorted(found, key=lambda r: (r.started_us, r.id), reverse=True)


class MemoryArtefactStore:
    def __init__(self) -> None:
        self.files: dict[tuple[str, str, str], Artefact] = {}

    async def put_artefacts(self, project: str, run_id: str, artefacts: list[Artefact]) -> None:
        for a in artefacts:
            self.files[(project, run_id, a.name)] = a

    async def get_artefact(self, project: str, run_id: str, name: str) -> Artefact | None:
        return self.files.get((project, run_id, name))

    async def delete_artefacts(self, project: str, run_ids: list[str]) -> int:
        gone = [k for k in self.files if k[0] == project and k[1] in run_ids]
        for k in gone:
            del self.files[k]
        return len(gone)
