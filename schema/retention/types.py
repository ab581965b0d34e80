"""A project's retention policy: per tier durations, overrides by metric name pattern, and
its legal hold; the input that sets it (durations as seconds or text such as "15d")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import strawberry

from domain.durations import seconds_of
from domain.errors import BadUserInput
from domain.storage.retention import model
from domain.storage.retention.commands import SetRetentionPolicyCommand
from domain.storage.tiers import TIERS
from schema.scalars import Duration
from schema.types import from_us

__all__ = [
    "LegalHold",
    "RetentionOverride",
    "RetentionOverrideInput",
    "RetentionPolicy",
    "RetentionPolicyInput",
    "TierRetention",
    "TierRetentionInput",
]

MAX_INPUT_OVERRIDES = model.MAX_OVERRIDES


@strawberry.type(description="How long one tier is kept.")
class TierRetention:
    tier: str = strawberry.field(description='"raw", "1m" or "1h".')
    resolution: Duration = strawberry.field(description="The tier's bucket; 0 for raw points.")
    keep: Duration


def _tiers(keep: Mapping[str, int]) -> list[TierRetention]:
    return [
        TierRetention(
            tier=t.name,
            resolution=Duration(t.resolution_us / 1_000_000),
            keep=Duration(seconds_of(keep[t.name])),
        )
        for t in TIERS
        if t.name in keep
    ]


@strawberry.type(description="Metrics whose name matches `pattern` (a glob) kept otherwise.")
class RetentionOverride:
    pattern: str
    tiers: list[TierRetention] = strawberry.field(description="The tiers it sets.")
    effective: list[TierRetention] = strawberry.field(
        description="Every tier as kept for its metrics (the others from the project)."
    )


@strawberry.type(description="Deletion suspended for the project until released.")
class LegalHold:
    reason: str
    by: str
    at: datetime


@strawberry.type(
    description="How long the project keeps each tier. An override applies to a metric "
    "when it is the first in the list whose pattern matches its name."
)
class RetentionPolicy:
    project: str
    tiers: list[TierRetention]
    overrides: list[RetentionOverride]
    legal_hold: LegalHold | None
    version: int = strawberry.field(description="0: the instance's defaults, never set.")
    updated_by: str
    updated_at: datetime | None
    raw_ceiling: Duration = strawberry.field(
        description="The instance's ceiling of raw points (VIGIL_RETENTION_DAYS)."
    )

    @classmethod
    def of(cls, p: model.RetentionPolicy, raw_ceiling_us: int) -> RetentionPolicy:
        hold = p.hold
        return cls(
            project=p.project,
            tiers=_tiers(p.keep_us),
            overrides=[
                RetentionOverride(
                    pattern=o.pattern, tiers=_tiers(o.keep_us), effective=_tiers(p.effective(o))
                )
                for o in p.overrides
            ],
            legal_hold=None
            if hold is None
            else LegalHold(reason=hold.reason, by=hold.by, at=from_us(hold.at_us)),
            version=p.version,
            updated_by=p.updated_by,
            updated_at=from_us(p.updated_us) if p.updated_us else None,
            raw_ceiling=Duration(seconds_of(raw_ceiling_us)),
        )


@strawberry.input
class TierRetentionInput:
    tier: str = strawberry.field(description='"raw", "1m" or "1h".')
    keep: Duration = strawberry.field(description='Seconds, or text such as "36h", "15d", "2y".')


@strawberry.input
class RetentionOverrideInput:
    pattern: str = strawberry.field(description='A glob on metric names, such as "disk.*".')
    tiers: list[TierRetentionInput]


@strawberry.input(description="A tier not listed is kept as the instance's default.")
class RetentionPolicyInput:
    tiers: list[TierRetentionInput] = strawberry.field(default_factory=list)
    overrides: list[RetentionOverrideInput] = strawberry.field(default_factory=list)

    def to_command(
        self, project: str, actor: str, expected_version: int | None
    ) -> SetRetentionPolicyCommand:
        if len(self.overrides) > MAX_INPUT_OVERRIDES:
            raise BadUserInput(f"at most {MAX_INPUT_OVERRIDES} overrides")
        overrides = tuple(
            model.MetricOverride(o.pattern, _keep(o.tiers, f"override {o.pattern!r}"))
            for o in self.overrides
        )
        return SetRetentionPolicyCommand(
            project=project,
            keep_us=_keep(self.tiers, "tiers"),
            overrides=overrides,
            expected_version=expected_version,
            actor=actor,
        )


def _keep(tiers: list[TierRetentionInput], where: str) -> dict[str, int]:
    if len(tiers) > len(TIERS):
        raise BadUserInput(f"{where}: at most {len(TIERS)} tiers")
    keep: dict[str, int] = {}
    for t in tiers:
        if t.tier in keep:
            raise BadUserInput(f"{where}: tier {t.tier!r} is given twice")
        keep[t.tier] = model.parse_keep(t.keep, f"{where}: tier {t.tier!r}")
    return keep
