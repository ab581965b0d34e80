"""Report events: the RFC's ReportGeneratedEvent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from domain.events import Event

__all__ = ["ReportGeneratedEvent"]


@dataclass(frozen=True, slots=True)
class ReportGeneratedEvent(Event):
    """A report run finished and its files are stored (or it failed: `status` says so).

    `files` are the names `/reports/{run_id}/{name}` serves; `bytes` and `sha256` describe
    the first (the main file: the PDF, the HTML, the zip of CSVs or the JSON)."""

    project: str
    report_id: str
    run_id: str
    format: str  # PDF, HTML, CSV or JSON
    bytes: int
    sha256: str
    duration_ms: float
    at_us: int
    trigger: str  # manual, schedule or catch_up
    status: str = "ok"  # ok or failed
    error: str = ""
    slot_us: int = 0  # the scheduled slot this run is for (0 for a manual run)
    files: list[str] = field(default_factory=list)

    TOPIC: ClassVar[str] = "reports"
