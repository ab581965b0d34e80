"""Compliance state beside the bus: access seen, revocations in force, clock offsets, jobs."""

from domain.compliance.runtime.clocks import ClockOffsets
from domain.compliance.runtime.jobs import Job, Jobs
from domain.compliance.runtime.ledger import AccessLedger
from domain.compliance.runtime.revocations import RevocationList

__all__ = ["AccessLedger", "ClockOffsets", "Job", "Jobs", "RevocationList"]
