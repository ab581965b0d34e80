"""Report inputs: a definition (ReportInput), its sections (one input type, the fields of
its kind set) and its schedule."""

from __future__ import annotations

import strawberry

from domain.durations import parse_step
from domain.errors import BadUserInput
from domain.reports.checking import MAX_SECTIONS
from domain.reports.model import (
    DEFAULT_RETENTION_DAYS,
    MissedSlots,
    Report,
    ReportFormat,
    Schedule,
    ScheduleKind,
    SectionKind,
    SectionSpec,
)
from schema.inputs import TagMatcherInput, matchers_of
from schema.scalars import Tags
from schema.types import Aggregation

__all__ = [
    "MissedSlotsEnum",
    "ReportFormatEnum",
    "ReportInput",
    "ScheduleInput",
    "ScheduleKindEnum",
    "SectionInput",
    "SectionKindEnum",
]

ReportFormatEnum = strawberry.enum(ReportFormat, name="ReportFormat")
SectionKindEnum = strawberry.enum(SectionKind, name="ReportSectionKind")
ScheduleKindEnum = strawberry.enum(ScheduleKind, name="ReportScheduleKind")
MissedSlotsEnum = strawberry.enum(MissedSlots, name="MissedSlots")

MAX_VARIABLES = 20
MAX_RECIPIENTS = 20


@strawberry.input(
    description="A section: `kind` says which fields apply. DASHBOARD: dashboardId, "
    "variables. SERIES: metric, matchers, aggregation, step, groupBy, unit (a metricSeries "
    "query). ANALYTICS: analyticsJobId (a succeeded job). ALERTS: none. USAGE and COST: "
    "step, groupBy. MARKDOWN: markdown."
)
class SectionInput:
    kind: SectionKindEnum  # type: ignore[valid-type]
    title: str = ""
    dashboard_id: strawberry.ID | None = None
    variables: Tags | None = None
    metric: str | None = None
    matchers: list[TagMatcherInput] | None = None
    aggregation: Aggregation = Aggregation.AVG  # type: ignore[valid-type]
    step: str | None = strawberry.field(
        default=None, description="A bucket such as 5m or 1h; default: about 120 buckets."
    )
    group_by: list[str] | None = None
    unit: str = ""
    analytics_job_id: strawberry.ID | None = None
    markdown: str | None = None

    def to_spec(self) -> SectionSpec:
        variables = self.variables if self.variables is not None else {}
        if (
            not isinstance(variables, dict)
            or len(variables) > MAX_VARIABLES
            or not all(isinstance(v, str) for v in variables.values())
        ):
            raise BadUserInput(f"variables must be an object of at most {MAX_VARIABLES} texts")
        matchers = matchers_of(self.matchers)
        return SectionSpec(
            kind=SectionKind(self.kind),
            title=self.title,
            dashboard_id=str(self.dashboard_id or ""),
            variables=dict(variables),
            metric=self.metric or "",
            matchers=tuple((m.key, m.op.value, m.value) for m in matchers),
            aggregation=str(self.aggregation.value),  # type: ignore[attr-defined]
            step_seconds=parse_step(self.step) // 1_000_000 if self.step else 0,
            group_by=tuple(self.group_by or ()),
            unit=self.unit,
            analytics_job_id=str(self.analytics_job_id or ""),
            markdown=self.markdown or "",
        )


@strawberry.input(
    description="When the report runs by itself: an RRULE (FREQ=WEEKLY;BYDAY=MO;BYHOUR=9) "
    "or a cron expression (0 9 * * 1) in an IANA time zone; `missed`: what a restart does "
    "with the slots that passed while Vigil was down."
)
class ScheduleInput:
    kind: ScheduleKindEnum  # type: ignore[valid-type]
    expression: str
    timezone: str = "UTC"
    missed: MissedSlotsEnum = MissedSlots.RUN_ONCE  # type: ignore[valid-type]

    def to_schedule(self) -> Schedule:
        return Schedule(
            ScheduleKind(self.kind), self.expression, self.timezone, MissedSlots(self.missed)
        )


@strawberry.input(description="A report's definition (the RFC's CreateReportCommand).")
class ReportInput:
    title: str
    sections: list[SectionInput]
    time_range: str = strawberry.field(
        default="last 7 days",
        description="Relative: '7d', 'last 24 hours', 'previous calendar week', "
        "'previous calendar month', 'this month', 'yesterday'.",
    )
    timezone: str = strawberry.field(
        default="UTC", description="IANA zone the range is resolved and times printed in."
    )
    format: ReportFormatEnum = ReportFormat.PDF  # type: ignore[valid-type]
    schedule: ScheduleInput | None = None
    recipients: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Notification channel ids of the project."
    )
    artefact_retention_days: int = DEFAULT_RETENTION_DAYS

    def to_report(self) -> Report:
        if len(self.sections) > MAX_SECTIONS:
            raise BadUserInput(f"a report has 1 to {MAX_SECTIONS} sections")
        if len(self.recipients or ()) > MAX_RECIPIENTS:
            raise BadUserInput(f"recipients are at most {MAX_RECIPIENTS} channel ids")
        return Report(
            id="",
            project="",
            title=self.title,
            time_range=self.time_range,
            timezone=self.timezone,
            format=ReportFormat(self.format),
            sections=tuple(s.to_spec() for s in self.sections),
            created_at_us=0,
            created_by="",
            schedule=self.schedule.to_schedule() if self.schedule is not None else None,
            recipients=tuple(str(r) for r in self.recipients or ()),
            artefact_retention_days=self.artefact_retention_days,
        )
