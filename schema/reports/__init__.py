"""Report types and inputs of the GraphQL schema."""

from schema.reports.inputs import ReportInput, ScheduleInput, SectionInput
from schema.reports.types import (
    Report,
    ReportConnection,
    ReportFile,
    ReportGeneratedEvent,
    ReportRun,
    ReportRunConnection,
)

__all__ = [
    "Report",
    "ReportConnection",
    "ReportFile",
    "ReportGeneratedEvent",
    "ReportInput",
    "ReportRun",
    "ReportRunConnection",
    "ScheduleInput",
    "SectionInput",
]
