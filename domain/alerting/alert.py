"""The Alert entity of the RFC: a rule of one project, who made it, and whether it runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from domain.alerting.model import RuleKind
from domain.alerting.rule import AlertRule
from domain.anomaly.model import placement_of

__all__ = ["Alert"]


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert definition. Its instances (one per series group) carry the states.

    `version` grows by one on every change, so an update made against a stale copy can be
    refused instead of silently overwriting someone else's change.
    """

    id: str
    project: str
    rule: AlertRule
    created_at_us: int
    created_by: str
    enabled: bool = True
    updated_at_us: int | None = None
    updated_by: str = ""
    version: int = 1
    template: str = ""  # the template it was made from, if any

    @property
    def placement(self) -> str:
        """What decides which process evaluates the alert (its shard, with several): its id,
        or for an ANOMALY rule its metric's, so it runs beside the detectors it reads."""
        if self.rule.kind is RuleKind.ANOMALY:
            return placement_of(self.project, self.rule.metric)
        return self.id

    def changed(
        self, *, rule: AlertRule | None = None, enabled: bool | None = None, at_us: int, by: str
    ) -> Alert:
        return replace(
            self,
            rule=rule if rule is not None else self.rule,
            enabled=self.enabled if enabled is None else enabled,
            updated_at_us=at_us,
            updated_by=by,
            version=self.version + 1,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "rule": self.rule.to_dict(),
            "created_at_us": self.created_at_us,
            "created_by": self.created_by,
            "enabled": self.enabled,
            "updated_at_us": self.updated_at_us,
            "updated_by": self.updated_by,
            "version": self.version,
            "template": self.template,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        return cls(
            id=data["id"],
            project=data["project"],
            rule=AlertRule.from_dict(data["rule"]),
            created_at_us=data["created_at_us"],
            created_by=data["created_by"],
            enabled=data.get("enabled", True),
            updated_at_us=data.get("updated_at_us"),
            updated_by=data.get("updated_by", ""),
            version=data.get("version", 1),
            template=data.get("template", ""),
        )
