"""The Report entity of the RFC (its definition: what to read, how to render, when, for whom)
and the ReportRun that records each time it was produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

# A report's schedule is the schedule module's spec (kinds, zone, missed-slot policy).
from domain.reports.schedule import MissedSlots, ScheduleKind
from domain.reports.schedule import ScheduleSpec as Schedule

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "MissedSlots",
    "Report",
    "ReportFormat",
    "ReportRun",
    "RunStatus",
    "RunTrigger",
    "Schedule",
    "ScheduleKind",
    "SectionKind",
    "SectionSpec",
]

DEFAULT_RETENTION_DAYS = 30


class ReportFormat(StrEnum):
    PDF = "PDF"
    HTML = "HTML"
    CSV = "CSV"
    JSON = "JSON"


class SectionKind(StrEnum):
    """What a section reads; USAGE and COST are read by readers the app plugs in."""

    DASHBOARD = "DASHBOARD"
    SERIES = "SERIES"
    ANALYTICS = "ANALYTICS"
    ALERTS = "ALERTS"
    USAGE = "USAGE"
    COST = "COST"
    MARKDOWN = "MARKDOWN"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    EXPIRED = "expired"  # ok once; its files are gone (the report's artefact retention)


class RunTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    CATCH_UP = "catch_up"


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One section of a report's definition; the fields of its kind are set, the others
    keep their defaults (a union by field, as the GraphQL input is)."""

    kind: SectionKind
    title: str = ""
    # DASHBOARD
    dashboard_id: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    # SERIES (a metricSeries query), and the step/groupBy of USAGE and COST
    metric: str = ""
    matchers: tuple[tuple[str, str, str], ...] = ()  # (key, op, value), op a MatchOp value
    aggregation: str = "avg"
    step_seconds: int = 0  # 0: the report's range / 100, at least a minute
    group_by: tuple[str, ...] = ()
    unit: str = ""
    # ANALYTICS
    analytics_job_id: str = ""
    # MARKDOWN
    markdown: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.title,
            "dashboard_id": self.dashboard_id,
            "variables": dict(self.variables),
            "metric": self.metric,
            "matchers": [list(m) for m in self.matchers],
            "aggregation": self.aggregation,
            "step_seconds": self.step_seconds,
            "group_by": list(self.group_by),
            "unit": self.unit,
            "analytics_job_id": self.analytics_job_id,
            "markdown": self.markdown,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SectionSpec:
        return cls(
            kind=SectionKind(data["kind"]),
            title=data.get("title", ""),
            dashboard_id=data.get("dashboard_id", ""),
            variables=dict(data.get("variables") or {}),
            metric=data.get("metric", ""),
            matchers=tuple((str(k), str(o), str(v)) for k, o, v in data.get("matchers") or ()),
            aggregation=data.get("aggregation", "avg"),
            step_seconds=int(data.get("step_seconds", 0)),
            group_by=tuple(data.get("group_by") or ()),
            unit=data.get("unit", ""),
            analytics_job_id=data.get("analytics_job_id", ""),
            markdown=data.get("markdown", ""),
        )


@dataclass(frozen=True, slots=True)
class Report:
    """A report's definition; `version` grows by one on every change, so a change made
    against a stale copy is refused (CONFLICT) instead of overwriting another's."""

    id: str
    project: str
    title: str
    time_range: str  # relative: "last 7 days", "7d", "previous calendar week"
    timezone: str  # IANA name: the range is resolved and times are printed in it
    format: ReportFormat
    sections: tuple[SectionSpec, ...]
    created_at_us: int
    created_by: str
    schedule: Schedule | None = None
    recipients: tuple[str, ...] = ()  # notification channel ids of the project
    artefact_retention_days: int = DEFAULT_RETENTION_DAYS
    updated_at_us: int | None = None
    updated_by: str = ""
    version: int = 1

    def changed(self, other: Report, *, at_us: int, by: str) -> Report:
        """`other`'s content as the next version of this report."""
        return replace(
            other,
            id=self.id,
            project=self.project,
            created_at_us=self.created_at_us,
            created_by=self.created_by,
            updated_at_us=at_us,
            updated_by=by,
            version=self.version + 1,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "title": self.title,
            "time_range": self.time_range,
            "timezone": self.timezone,
            "format": self.format.value,
            "sections": [s.to_dict() for s in self.sections],
            "created_at_us": self.created_at_us,
            "created_by": self.created_by,
            "schedule": self.schedule.to_dict() if self.schedule is not None else None,
            "recipients": list(self.recipients),
            "artefact_retention_days": self.artefact_retention_days,
            "updated_at_us": self.updated_at_us,
            "updated_by": self.updated_by,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        schedule = data.get("schedule")
        return cls(
            id=data["id"],
            project=data["project"],
            title=data["title"],
            time_range=data["time_range"],
            timezone=data["timezone"],
            format=ReportFormat(data["format"]),
            sections=tuple(SectionSpec.from_dict(s) for s in data["sections"]),
            created_at_us=data["created_at_us"],
            created_by=data.get("created_by", ""),
            schedule=Schedule.from_dict(schedule) if schedule else None,
            recipients=tuple(data.get("recipients") or ()),
            artefact_retention_days=int(
                data.get("artefact_retention_days", DEFAULT_RETENTION_DAYS)
            ),
            updated_at_us=data.get("updated_at_us"),
            updated_by=data.get("updated_by", ""),
            version=int(data.get("version", 1)),
        )


@dataclass(frozen=True, slots=True)
class ReportRun:
    """One production of a report: what range it covered, how it ended, what it made.

    `files` are the names `/reports/{id}/{name}` serves (the main file first); `bytes`
    and `sha256` describe the main file."""

    id: str
    project: str
    report_id: str
    trigger: RunTrigger
    status: RunStatus
    started_us: int
    format: ReportFormat
    from_us: int = 0
    to_us: int = 0
    slot_us: int = 0
    finished_us: int | None = None
    duration_ms: float = 0.0
    bytes: int = 0
    sha256: str = ""
    files: tuple[str, ...] = ()
    error: str = ""
    actor: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "report_id": self.report_id,
            "trigger": self.trigger.value,
            "status": self.status.value,
            "started_us": self.started_us,
            "format": self.format.value,
            "from_us": self.from_us,
            "to_us": self.to_us,
            "slot_us": self.slot_us,
            "finished_us": self.finished_us,
            "duration_ms": self.duration_ms,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "files": list(self.files),
            "error": self.error,
            "actor": self.actor,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportRun:
        return cls(
            id=data["id"],
            project=data["project"],
            report_id=data["report_id"],
            trigger=RunTrigger(data["trigger"]),
            status=RunStatus(data["status"]),
            started_us=data["started_us"],
            format=ReportFormat(data["format"]),
            from_us=data.get("from_us", 0),
            to_us=data.get("to_us", 0),
            slot_us=data.get("slot_us", 0),
            finished_us=data.get("finished_us"),
            duration_ms=float(data.get("duration_ms", 0.0)),
            bytes=int(data.get("bytes", 0)),
            sha256=data.get("sha256", ""),
            files=tuple(data.get("files") or ()),
            error=data.get("error", ""),
            actor=data.get("actor", ""),
        )
