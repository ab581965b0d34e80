"""The incident vocabulary: its states, its member alerts, its timeline, the grouping
settings of a project."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_WINDOW_US",
    "Dependency",
    "Incident",
    "IncidentSettings",
    "IncidentState",
    "Member",
    "MemberState",
    "TimelineEntry",
]

DEFAULT_WINDOW_US = 5 * 60_000_000


class IncidentState(StrEnum):
    OPEN = "open"  # a member fires and nobody acknowledged the incident
    ACKNOWLEDGED = "acknowledged"  # every firing member is acknowledged
    RESOLVED = "resolved"  # every member resolved, or resolved by hand


class MemberState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Member:
    """One alert instance of an incident. `cause` is what it reacts to on its series (the
    metric, the series' tags and the direction), so two rules on one series for one cause
    are told apart from two series; `duplicate_of` names the member it duplicates."""

    alert_id: str
    alert_name: str
    instance_id: str
    tags: Mapping[str, str]
    metric: str
    series: Mapping[str, str]  # the instance's tags and the rule's equality matchers
    direction: str  # "up", "down" or "any"
    severity: str | None
    state: MemberState
    fired_us: int
    changed_us: int
    duplicate_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "alert_name": self.alert_name,
            "instance_id": self.instance_id,
            "tags": dict(self.tags),
            "metric": self.metric,
            "series": dict(self.series),
            "direction": self.direction,
            "severity": self.severity,
            "state": self.state.value,
            "fired_us": self.fired_us,
            "changed_us": self.changed_us,
            "duplicate_of": self.duplicate_of,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Member:
        return cls(
            d["alert_id"],
            d["alert_name"],
            d["instance_id"],
            dict(d["tags"]),
            d["metric"],
            dict(d["series"]),
            d["direction"],
            d.get("severity"),
            MemberState(d["state"]),
            int(d["fired_us"]),
            int(d["changed_us"]),
            d.get("duplicate_of"),
        )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at_us: int
    text: str
    instance_id: str = ""
    by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at_us": self.at_us,
            "text": self.text,
            "instance_id": self.instance_id,
            "by": self.by,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimelineEntry:
        return cls(int(d["at_us"]), d["text"], d.get("instance_id", ""), d.get("by", ""))


@dataclass(frozen=True, slots=True)
class Incident:
    """Alerts grouped by time and shared tags (or a declared dependency): `root` is the
    instance id of the root candidate (the upstream dependency, else the first to fire)."""

    id: str
    project: str
    state: IncidentState
    title: str
    opened_us: int
    updated_us: int
    root: str
    members: tuple[Member, ...]
    timeline: tuple[TimelineEntry, ...]
    resolved_us: int | None = None
    version: int = 1

    def member(self, instance_id: str) -> Member | None:
        return next((m for m in self.members if m.instance_id == instance_id), None)

    @property
    def last_fired_us(self) -> int:
        return max(m.fired_us for m in self.members)

    def changed(self, **changes: Any) -> Incident:
        return replace(self, version=self.version + 1, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "state": self.state.value,
            "title": self.title,
            "opened_us": self.opened_us,
            "updated_us": self.updated_us,
            "root": self.root,
            "members": [m.to_dict() for m in self.members],
            "timeline": [t.to_dict() for t in self.timeline],
            "resolved_us": self.resolved_us,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Incident:
        return cls(
            id=d["id"],
            project=d["project"],
            state=IncidentState(d["state"]),
            title=d["title"],
            opened_us=int(d["opened_us"]),
            updated_us=int(d["updated_us"]),
            root=d["root"],
            members=tuple(Member.from_dict(m) for m in d["members"]),
            timeline=tuple(TimelineEntry.from_dict(t) for t in d["timeline"]),
            resolved_us=d.get("resolved_us"),
            version=int(d.get("version", 1)),
        )


@dataclass(frozen=True, slots=True)
class Dependency:
    """`service` depends on `depends_on` (values of the settings' dependency tag)."""

    service: str
    depends_on: str


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """How a project groups: alerts firing within `window_us` of an open incident's last
    firing join it when they share a value of one of `tags` (None: any tag), or when their
    `dependency_tag` values are linked by a declared dependency."""

    window_us: int = DEFAULT_WINDOW_US
    tags: tuple[str, ...] | None = None
    dependency_tag: str = "service"
    dependencies: tuple[Dependency, ...] = field(default=())
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_us": self.window_us,
            "tags": None if self.tags is None else list(self.tags),
            "dependency_tag": self.dependency_tag,
            "dependencies": [
                {"service": d.service, "depends_on": d.depends_on} for d in self.dependencies
            ],
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IncidentSettings:
        tags = d.get("tags")
        return cls(
            window_us=int(d.get("window_us", DEFAULT_WINDOW_US)),
            tags=None if tags is None else tuple(tags),
            dependency_tag=d.get("dependency_tag", "service"),
            dependencies=tuple(
                Dependency(x["service"], x["depends_on"]) for x in d.get("dependencies", ())
            ),
            version=int(d.get("version", 0)),
        )
