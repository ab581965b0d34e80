"""Scheduled slots: the record that a report's slot was run (or skipped), once across
instances.

Every instance's scheduler may see the same slot due; the store lets one claim it
(`claim_slot`: unique per report and slot) and only its claimant finishes it. A claim
whose instance died lapses (`until_us`) and is claimed again, by `lapsed_slots`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["ReportSlotStore", "SlotClaim", "SlotStatus"]


class SlotStatus(StrEnum):
    RUNNING = "running"  # claimed, not finished
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # missed while Vigil was down, and the report's policy is SKIP


@dataclass(frozen=True, slots=True)
class SlotClaim:
    project: str
    report_id: str
    slot_us: int
    owner: str  # the instance that claimed it
    trigger: str  # schedule or catch_up
    claimed_us: int
    status: SlotStatus = SlotStatus.RUNNING
    run_id: str = ""
    error: str = ""
    finished_us: int | None = None

    def finished(
        self, status: SlotStatus, at_us: int, *, run_id: str = "", error: str = ""
    ) -> SlotClaim:
        return replace(self, status=status, finished_us=at_us, run_id=run_id, error=error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "report_id": self.report_id,
            "slot_us": self.slot_us,
            "owner": self.owner,
            "trigger": self.trigger,
            "claimed_us": self.claimed_us,
            "status": self.status.value,
            "run_id": self.run_id,
            "error": self.error,
            "finished_us": self.finished_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlotClaim:
        return cls(
            project=data["project"],
            report_id=data["report_id"],
            slot_us=int(data["slot_us"]),
            owner=data["owner"],
            trigger=data["trigger"],
            claimed_us=int(data["claimed_us"]),
            status=SlotStatus(data.get("status", SlotStatus.RUNNING.value)),
            run_id=data.get("run_id", ""),
            error=data.get("error", ""),
            finished_us=data.get("finished_us"),
        )


class ReportSlotStore(Protocol):
    async def claim_slot(self, claim: SlotClaim, *, until_us: int) -> bool:
        """Take (project, report, slot) for `claim.owner` until `until_us`: True if it was
        not there, or is unfinished and its claim lapsed before `claim.claimed_us`.
        Atomic across instances sharing the store."""
        ...

    async def finish_slot(self, claim: SlotClaim) -> bool:
        """Record the finished claim if `claim.owner` still holds it unfinished: True once
        per slot, whatever the number of instances."""
        ...

    async def last_slot(self, project: str, report_id: str) -> int | None:
        """The newest slot of the report claimed so far (finished or not)."""
        ...

    async def last_slots(self) -> dict[tuple[str, str], int]:
        """Every report's newest claimed slot, by (project, report id): one read a tick."""
        ...

    async def lapsed_slots(self, now_us: int, *, first: int = 100) -> list[SlotClaim]:
        """Unfinished claims whose claim ended before `now_us`, oldest slot first."""
        ...

    async def slot_claims(self, project: str, report_id: str, *, first: int) -> list[SlotClaim]:
        """The report's claims, newest slot first."""
        ...

    async def forget_slots(self, project: str, report_id: str) -> int:
        """Drop a deleted report's claims; how many."""
        ...

    async def prune_slots(self, before_us: int) -> int:
        """Drop finished claims of slots before `before_us`, except each report's newest
        (the scheduler's cursor); how many."""
        ...
