"""Incidents as the API shows them, their grouping settings, and their live updates."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.durations import parse_duration, seconds_of
from domain.errors import BadUserInput
from domain.incidents import model
from domain.incidents.commands import ConfigureIncidentsCommand
from domain.incidents.events import IncidentUpdatedEvent
from schema.scalars import Duration, Tags
from schema.types import PageInfo, from_us

__all__ = [
    "Incident",
    "IncidentConnection",
    "IncidentDependencyInput",
    "IncidentMember",
    "IncidentSettings",
    "IncidentSettingsInput",
    "IncidentState",
    "IncidentUpdated",
    "MemberState",
    "TimelineEntry",
]

IncidentState = strawberry.enum(model.IncidentState, name="IncidentState")
MemberState = strawberry.enum(model.MemberState, name="IncidentMemberState")
MAX_TAGS = 32


@strawberry.type(description="One alert instance of an incident.")
class IncidentMember:
    alert_id: strawberry.ID
    alert_name: str
    instance_id: str
    tags: Tags
    metric: str
    series: Tags = strawberry.field(description="Its tags and its rule's equality matchers.")
    direction: str
    severity: str | None
    state: MemberState  # type: ignore[valid-type]
    fired_at: datetime
    changed_at: datetime
    duplicate_of: str | None = strawberry.field(
        description="The member it repeats (same series, metric and direction): it did not notify."
    )

    @classmethod
    def of(cls, m: model.Member) -> IncidentMember:
        return cls(
            alert_id=strawberry.ID(m.alert_id),
            alert_name=m.alert_name,
            instance_id=m.instance_id,
            tags=Tags(dict(m.tags)),
            metric=m.metric,
            series=Tags(dict(m.series)),
            direction=m.direction,
            severity=m.severity,
            state=m.state,
            fired_at=from_us(m.fired_us),
            changed_at=from_us(m.changed_us),
            duplicate_of=m.duplicate_of,
        )


@strawberry.type
class TimelineEntry:
    at: datetime
    text: str
    instance_id: str | None
    by: str | None


@strawberry.type(description="Alerts that fired together, grouped.")
class Incident:
    id: strawberry.ID
    project: str
    state: IncidentState  # type: ignore[valid-type]
    title: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    root: IncidentMember = strawberry.field(
        description="The root candidate: the upstream dependency, else the first to fire."
    )
    members: list[IncidentMember]
    timeline: list[TimelineEntry]
    version: int

    @classmethod
    def of(cls, i: model.Incident) -> Incident:
        members = [IncidentMember.of(m) for m in i.members]
        root = next((m for m in members if m.instance_id == i.root), members[0])
        return cls(
            id=strawberry.ID(i.id),
            project=i.project,
            state=i.state,
            title=i.title,
            opened_at=from_us(i.opened_us),
            updated_at=from_us(i.updated_us),
            resolved_at=None if i.resolved_us is None else from_us(i.resolved_us),
            root=root,
            members=members,
            timeline=[
                TimelineEntry(
                    at=from_us(t.at_us),
                    text=t.text,
                    instance_id=t.instance_id or None,
                    by=t.by or None,
                )
                for t in i.timeline
            ],
            version=i.version,
        )


@strawberry.type(description="A page of incidents, newest first.")
class IncidentConnection:
    items: list[Incident]
    page_info: PageInfo


@strawberry.type
class IncidentDependency:
    service: str
    depends_on: str


@strawberry.type(description="How a project groups alerts into incidents.")
class IncidentSettings:
    window: Duration
    tags: list[str] | None
    dependency_tag: str
    dependencies: list[IncidentDependency]

    @classmethod
    def of(cls, s: model.IncidentSettings) -> IncidentSettings:
        return cls(
            window=Duration(seconds_of(s.window_us)),
            tags=None if s.tags is None else list(s.tags),
            dependency_tag=s.dependency_tag,
            dependencies=[
                IncidentDependency(service=d.service, depends_on=d.depends_on)
                for d in s.dependencies
            ],
        )


@strawberry.input
class IncidentDependencyInput:
    service: str
    depends_on: str


@strawberry.input(description="How alerts are grouped into incidents.")
class IncidentSettingsInput:
    window: Duration = strawberry.field(
        default=Duration("5m"),
        description="An alert joins an open incident whose last alert fired this recently.",
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Tags whose shared value groups alerts; null: any tag."
    )
    dependency_tag: str = "service"
    dependencies: list[IncidentDependencyInput] | None = None

    def to_command(self, project: str, actor: str) -> ConfigureIncidentsCommand:
        if self.tags is not None and len(self.tags) > MAX_TAGS:
            raise BadUserInput(f"at most {MAX_TAGS} grouping tags")
        return ConfigureIncidentsCommand(
            project=project,
            window_us=parse_duration(self.window, "window"),
            tags=None if self.tags is None else tuple(self.tags),
            dependency_tag=self.dependency_tag,
            dependencies=tuple(
                model.Dependency(d.service, d.depends_on) for d in self.dependencies or ()
            ),
            actor=actor,
        )


@strawberry.type(description="An incident opened, gained a member or changed state.")
class IncidentUpdated:
    project: str
    incident_id: strawberry.ID
    state: IncidentState  # type: ignore[valid-type]
    title: str
    change: str
    root: str
    members: int
    at: datetime
    version: int

    @classmethod
    def of(cls, e: IncidentUpdatedEvent) -> IncidentUpdated:
        return cls(
            project=e.project,
            incident_id=strawberry.ID(e.incident_id),
            state=model.IncidentState(e.state),
            title=e.title,
            change=e.change,
            root=e.root,
            members=e.members,
            at=from_us(e.at_us),
            version=e.version,
        )
