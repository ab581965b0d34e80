"""An anomaly detection: a project's opt-in for one metric (and tag matchers), with the
detector's configuration. Each series it covers gets its own detector."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.anomaly.model import DetectorConfig, Direction, Seasonality, placement_of
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher

__all__ = ["AnomalyDetection", "detection_id"]


def detection_id(project: str, metric: str, matchers: tuple[TagMatcher, ...]) -> str:
    """One detection per (project, metric, matchers): configuring it again changes it."""
    text = "\x1f".join(
        [project, metric, *sorted(f"{m.key}{m.op.value}{m.value}" for m in matchers)]
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class AnomalyDetection:
    """Detectors on every series of `metric` that `matchers` select."""

    id: str
    project: str
    metric: str
    matchers: tuple[TagMatcher, ...]
    config: DetectorConfig
    enabled: bool
    created_at_us: int
    created_by: str
    updated_at_us: int | None = None
    updated_by: str = ""
    version: int = 1

    @property
    def placement(self) -> str:
        """Its detectors run where the metric's detectors run (model.placement_of)."""
        return placement_of(self.project, self.metric)

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "id": self.id,
            "project": self.project,
            "metric": self.metric,
            "matchers": [{"key": m.key, "op": m.op.value, "value": m.value} for m in self.matchers],
            "sensitivity": c.sensitivity,
            "direction": c.direction.value,
            "seasonality": c.seasonality.value,
            "enabled": self.enabled,
            "created_at_us": self.created_at_us,
            "created_by": self.created_by,
            "updated_at_us": self.updated_at_us,
            "updated_by": self.updated_by,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnomalyDetection:
        try:
            return cls(
                id=data["id"],
                project=data["project"],
                metric=data["metric"],
                matchers=tuple(
                    TagMatcher(m["key"], MatchOp(m["op"]), m["value"]) for m in data["matchers"]
                ),
                config=DetectorConfig(
                    sensitivity=float(data["sensitivity"]),
                    direction=Direction(data["direction"]),
                    seasonality=Seasonality(data["seasonality"]),
                ),
                enabled=bool(data["enabled"]),
                created_at_us=int(data["created_at_us"]),
                created_by=str(data["created_by"]),
                updated_at_us=data.get("updated_at_us"),
                updated_by=str(data.get("updated_by", "")),
                version=int(data.get("version", 1)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise BadUserInput(f"invalid anomaly detection: {type(exc).__name__}: {exc}") from None
