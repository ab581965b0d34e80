"""In-memory ReportSlotStore with the real ones' claim rules (tests/contract checks those)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.reports.slots import SlotClaim

__all__ = ["MemorySlotStore"]


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
