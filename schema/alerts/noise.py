"""`alertNoise`: how noisy each alert is, with backtested suggestions."""

from __future__ import annotations

import strawberry

from domain.alerting.noise_report import AlertNoiseDto
from schema.alerts.types import Alert

__all__ = ["AlertNoise", "NoiseSuggestion"]


@strawberry.type(description="A change of the rule, replayed over the same history.")
class NoiseSuggestion:
    change: str
    firings: int = strawberry.field(description="How often the changed rule would have fired.")
    baseline_firings: int = strawberry.field(description="The current rule, replayed alike.")
    missed_acknowledged: int
    acknowledged: int
    text: str


@strawberry.type(description="An alert's noise over its last `days` of history.")
class AlertNoise:
    alert: Alert
    days: int
    firings: int
    firings_per_day: float
    quick_resolve_share: float = strawberry.field(
        description="Share of firings that resolved by themselves within 5 minutes, unacknowledged."
    )
    flapping_share: float = strawberry.field(
        description="Share of firings within 10 minutes of the instance resolving."
    )
    flapping_started: int = strawberry.field(description="Times flapping detection held news.")
    never_acknowledged_share: float
    median_resolve_seconds: float | None
    noise_score: float = strawberry.field(
        description="Firings per day nobody acted on (no acknowledgement, no hand resolve)."
    )
    suggestions: list[NoiseSuggestion]
    note: str

    @classmethod
    def of(cls, dto: AlertNoiseDto) -> AlertNoise:
        s = dto.stats
        return cls(
            alert=Alert.of(dto.alert),
            days=dto.days,
            firings=s.firings,
            firings_per_day=s.firings_per_day,
            quick_resolve_share=s.quick_share,
            flapping_share=s.flapping_share,
            flapping_started=s.flapping_started,
            never_acknowledged_share=s.never_acknowledged_share,
            median_resolve_seconds=s.median_resolve_seconds,
            noise_score=s.noise,
            suggestions=[
                NoiseSuggestion(
                    change=x.change,
                    firings=x.firings,
                    baseline_firings=x.baseline_firings,
                    missed_acknowledged=x.missed_acknowledged,
                    acknowledged=x.acknowledged,
                    text=x.text,
                )
                for x in dto.suggestions
            ],
            note=dto.note,
        )
