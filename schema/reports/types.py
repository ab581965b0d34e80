"""Report output types: a report (the RFC's ReportDto), its runs, and the live event."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.matchers import MatchOp as DomainMatchOp
from domain.reports.events import ReportGeneratedEvent as DomainGeneratedEvent
from domain.reports.model import Report as DomainReport
from domain.reports.model import SectionSpec
from domain.reports.query_handlers import ReportRunDto
from schema.reports.inputs import (
    MissedSlotsEnum,
    ReportFormatEnum,
    ScheduleKindEnum,
    SectionKindEnum,
)
from schema.scalars import Tags
from schema.types import MatchOp, PageInfo, from_us

__all__ = [
    "Report",
    "ReportConnection",
    "ReportFile",
    "ReportGeneratedEvent",
    "ReportRun",
    "ReportRunConnection",
    "ReportSchedule",
    "ReportSection",
]


@strawberry.type(description="A tag matcher of a SERIES section.")
class ReportMatcher:
    key: str
    op: MatchOp
    value: str


@strawberry.type(description="One section of a report's definition (see SectionInput).")
class ReportSection:
    kind: SectionKindEnum  # type: ignore[valid-type]
    title: str
    dashboard_id: strawberry.ID | None
    variables: Tags | None
    metric: str | None
    matchers: list[ReportMatcher]
    aggregation: str
    step_seconds: int | None
    group_by: list[str]
    unit: str
    analytics_job_id: strawberry.ID | None
    markdown: str | None

    @classmethod
    def of(cls, s: SectionSpec) -> ReportSection:
        return cls(
            kind=s.kind,
            title=s.title,
            dashboard_id=strawberry.ID(s.dashboard_id) if s.dashboard_id else None,
            variables=Tags(dict(s.variables)) if s.variables else None,
            metric=s.metric or None,
            matchers=[
                ReportMatcher(key=k, op=MatchOp(DomainMatchOp(o)), value=v)
                for k, o, v in s.matchers
            ],
            aggregation=s.aggregation,
            step_seconds=s.step_seconds or None,
            group_by=list(s.group_by),
            unit=s.unit,
            analytics_job_id=strawberry.ID(s.analytics_job_id) if s.analytics_job_id else None,
            markdown=s.markdown or None,
        )


@strawberry.type
class ReportSchedule:
    kind: ScheduleKindEnum  # type: ignore[valid-type]
    expression: str
    timezone: str
    missed: MissedSlotsEnum  # type: ignore[valid-type]


@strawberry.type(description="A report's definition (the RFC's ReportDto).")
class Report:
    id: strawberry.ID
    project: str
    title: str
    time_range: str
    timezone: str
    format: ReportFormatEnum  # type: ignore[valid-type]
    sections: list[ReportSection]
    schedule: ReportSchedule | None
    recipients: list[strawberry.ID]
    artefact_retention_days: int
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, r: DomainReport) -> Report:
        s = r.schedule
        return cls(
            id=strawberry.ID(r.id),
            project=r.project,
            title=r.title,
            time_range=r.time_range,
            timezone=r.timezone,
            format=r.format,
            sections=[ReportSection.of(x) for x in r.sections],
            schedule=ReportSchedule(
                kind=s.kind, expression=s.expression, timezone=s.timezone, missed=s.missed
            )
            if s
            else None,
            recipients=[strawberry.ID(c) for c in r.recipients],
            artefact_retention_days=r.artefact_retention_days,
            version=r.version,
            created_at=from_us(r.created_at_us),
            created_by=r.created_by,
            updated_at=from_us(r.updated_at_us) if r.updated_at_us is not None else None,
            updated_by=r.updated_by or None,
        )


@strawberry.type
class ReportConnection:
    items: list[Report]
    page_info: PageInfo


@strawberry.type(description="A file of a run, with a short-lived signed link to it.")
class ReportFile:
    name: str
    url: str


@strawberry.type(description="One production of a report: `status` running, ok, failed or expired.")
class ReportRun:
    id: strawberry.ID
    project: str
    report_id: strawberry.ID
    trigger: str
    status: str
    format: ReportFormatEnum  # type: ignore[valid-type]
    started_at: datetime
    finished_at: datetime | None
    from_: datetime = strawberry.field(name="from")
    to: datetime
    slot: datetime | None
    duration_ms: float
    bytes: int
    sha256: str
    error: str | None
    files: list[ReportFile]
    download_url: str | None = strawberry.field(
        description="A signed link to the main file (the first), valid for "
        "VIGIL_REPORT_LINK_SECONDS; null unless the run is ok."
    )

    @classmethod
    def of(cls, dto: ReportRunDto) -> ReportRun:
        r = dto.run
        files = [
            ReportFile(name=name, url=dto.links[name]) for name in r.files if name in dto.links
        ]
        return cls(
            id=strawberry.ID(r.id),
            project=r.project,
            report_id=strawberry.ID(r.report_id),
            trigger=r.trigger.value,
            status=r.status.value,
            format=r.format,
            started_at=from_us(r.started_us),
            finished_at=from_us(r.finished_us) if r.finished_us is not None else None,
            from_=from_us(r.from_us),
            to=from_us(r.to_us),
            slot=from_us(r.slot_us) if r.slot_us else None,
            duration_ms=r.duration_ms,
            bytes=r.bytes,
            sha256=r.sha256,
            error=r.error or None,
            files=files,
            download_url=files[0].url if files else None,
        )


@strawberry.type
class ReportRunConnection:
    items: list[ReportRun]
    page_info: PageInfo


@strawberry.type(description="The RFC's ReportGeneratedEvent: a run ended (ok or failed).")
class ReportGeneratedEvent:
    project: str
    report_id: strawberry.ID
    run_id: strawberry.ID
    format: str
    bytes: int
    sha256: str
    duration_ms: float
    at: datetime
    trigger: str
    status: str
    error: str | None
    files: list[str]

    @classmethod
    def of(cls, e: DomainGeneratedEvent) -> ReportGeneratedEvent:
        return cls(
            project=e.project,
            report_id=strawberry.ID(e.report_id),
            run_id=strawberry.ID(e.run_id),
            format=e.format,
            bytes=e.bytes,
            sha256=e.sha256,
            duration_ms=e.duration_ms,
            at=from_us(e.at_us),
            trigger=e.trigger,
            status=e.status,
            error=e.error or None,
            files=list(e.files),
        )
