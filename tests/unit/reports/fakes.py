"""In-memory report stores for unit tests: ReportSlotStore with the real ones' claim rules
(tests/contract checks those), ReportStore and ArtefactStore."""

from __future__ import annotations

from dataclasses import dataclass

from domain.reports.document import Artefact
from domain.reports.model import Report, ReportRun
from domain.reports.slots import SlotClaim

__all__ = ["MemoryArtefactStore", "MemoryReportStore", "MemorySlotStore"]


@dataclass
class _Row:
    claim: SlotClaim
    until_us: int


class MemorySlotStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, int], _Row] = {}

    async def claim_slot(self, claim: SlotClaim, *, until_us: int) -> bool:
        key = (claim.project, claim.report_id, claim.slot_us)
        row = self.rows.get(key)
        if row is not None and (
            row.claim.finished_us is not None or row.until_us > claim.claimed_us
        ):
            return False
        self.rows[key] = _Row(claim, until_us)
        return True

    async def finish_slot(self, claim: SlotClaim) -> bool:
        row = self.rows.get((claim.project, claim.report_id, claim.slot_us))
        if row is None or row.claim.owner != claim.owner or row.claim.finished_us is not None:
            return False
        row.claim = claim
        return True

    async def last_slot(self, project: str, report_id: str) -> int | None:
        found = [s for (p, r, s) in self.rows if (p, r) == (project, report_id)]
        return max(found) if found else None

    async def last_slots(self) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for p, r, s in self.rows:
            found[(p, r)] = max(s, found.get((p, r), s))
        return found

    async def lapsed_slots(self, now_us: int, *, first: int = 100) -> list[SlotClaim]:
        rows = [
            r for r in self.rows.values() if r.claim.finished_us is None and r.until_us <= now_us
        ]
        return [r.claim for r in sorted(rows, key=lambda r: r.claim.slot_us)][:first]

    async def slot_claims(self, project: str, report_id: str, *, first: int) -> list[SlotClaim]:
        rows = [r.claim for (p, i, _), r in self.rows.items() if (p, i) == (project, report_id)]
        return sorted(rows, key=lambda c: -c.slot_us)[:first]

    async def prune_slots(self, before_us: int) -> int:
        newest: dict[tuple[str, str], int] = {}
        for p, r, s in self.rows:
            newest[(p, r)] = max(s, newest.get((p, r), s))
        keys = [
            k
            for k, row in self.rows.items()
            if row.claim.finished_us is not None and k[2] < min(before_us, newest[k[:2]])
        ]
        for key in keys:
            del self.rows[key]
        return len(keys)

    async def forget_slots(self, project: str, report_id: str) -> int:
        keys = [k for k in self.rows if k[:2] == (project, report_id)]
        for key in keys:
            del self.rows[key]
        return len(keys)


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
