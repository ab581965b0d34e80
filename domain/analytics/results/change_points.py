"""CHANGE_POINTS: shifts, with the audit marks the caller attaches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar

from domain.analytics.results._base import AnalyticsKind, Json

__all__ = ["AuditMark", "ChangeKind", "ChangePoint", "ChangePointsResult"]


class ChangeKind(StrEnum):
    LEVEL = "level"
    VARIANCE = "variance"
    LEVEL_AND_VARIANCE = "level_and_variance"


@dataclass(frozen=True, slots=True)
class AuditMark(Json):
    """Something recorded near a change (a rule edited, a deploy marker), added by the caller."""

    time_us: int
    source: str
    summary: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class ChangePoint(Json):
    """The first bucket of a new segment, with the segments' statistics either side."""

    time_us: int
    index: int
    change: ChangeKind
    mean_before: float
    mean_after: float
    std_before: float
    std_after: float
    audit: tuple[AuditMark, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangePointsResult(Json):
    kind: ClassVar[AnalyticsKind] = AnalyticsKind.CHANGE_POINTS
    tags: Mapping[str, str]
    start_us: int
    end_us: int
    method: str
    penalty: float
    points: tuple[ChangePoint, ...]

    def with_audit(self, marks: Sequence[AuditMark], within_us: int) -> ChangePointsResult:
        """The same result with each mark within `within_us` of a change attached to it."""
        points = tuple(
            replace(
                point,
                audit=tuple(
                    sorted(
                        (m for m in marks if abs(m.time_us - point.time_us) <= within_us),
                        key=lambda m: abs(m.time_us - point.time_us),
                    )
                ),
            )
            for point in self.points
        )
        return replace(self, points=points)
