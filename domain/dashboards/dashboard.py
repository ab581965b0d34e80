"""The Dashboard entity of the RFC: a document of one project, who made it, and its version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from domain.dashboards.spec import DashboardSpec, read_spec

__all__ = ["Dashboard"]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """`version` grows by one on every change and each version is kept (history, restore),
    so an update made against a stale copy is refused instead of overwriting another's."""

    id: str
    project: str
    spec: DashboardSpec
    created_at_us: int
    created_by: str
    updated_at_us: int | None = None
    updated_by: str = ""
    version: int = 1

    @property
    def name(self) -> str:
        return self.spec.name

    def changed(self, spec: DashboardSpec, *, at_us: int, by: str) -> Dashboard:
        return replace(
            self, spec=spec, updated_at_us=at_us, updated_by=by, version=self.version + 1
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "spec": self.spec.to_dict(),
            "created_at_us": self.created_at_us,
            "created_by": self.created_by,
            "updated_at_us": self.updated_at_us,
            "updated_by": self.updated_by,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dashboard:
        return cls(
            id=data["id"],
            project=data["project"],
            spec=read_spec(data["spec"]),
            created_at_us=data["created_at_us"],
            created_by=data["created_by"],
            updated_at_us=data.get("updated_at_us"),
            updated_by=data.get("updated_by", ""),
            version=data.get("version", 1),
        )
