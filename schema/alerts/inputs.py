"""Alert enums and inputs: AlertRuleInput mirrors the domain's AlertRule."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.alerting import AlertRule as DomainRule
from domain.alerting import AlertSeverity as DomainSeverity
from domain.alerting import AlertState as DomainState
from domain.alerting import Condition as DomainCondition
from domain.alerting import FlappingSettings
from domain.alerting import NoDataPolicy as DomainNoDataPolicy
from domain.alerting import RuleAggregation as DomainAggregation
from domain.alerting.model import AnomalySettings, ForecastSettings
from domain.alerting.model import RuleKind as DomainKind
from domain.anomaly.model import Direction as DomainDirection
from domain.anomaly.model import Seasonality as DomainSeasonality
from domain.durations import parse_duration
from domain.errors import BadUserInput
from schema.anomaly.inputs import AnomalyDirection, Seasonality
from schema.inputs import TagMatcherInput, matchers_of
from schema.scalars import Duration, Tags

__all__ = [
    "AlertRuleInput",
    "AlertSeverity",
    "AlertState",
    "AnomalyRuleInput",
    "Condition",
    "FlappingInput",
    "ForecastRuleInput",
    "NoDataPolicy",
    "RuleAggregation",
    "RuleKind",
    "instance_of",
]

AlertState = strawberry.enum(DomainState, name="AlertState")
AlertSeverity = strawberry.enum(DomainSeverity, name="AlertSeverity")
Condition = strawberry.enum(
    DomainCondition,
    name="Condition",
    description="How the aggregate compares with a threshold: GT >, GE >=, LT <, LE <=, "
    "EQ ==, NE !=.",
)
RuleAggregation = strawberry.enum(DomainAggregation, name="RuleAggregation")
RuleKind = strawberry.enum(
    DomainKind,
    name="RuleKind",
    description="THRESHOLD compares the metric's aggregate; ANOMALY aggregates 1 for each "
    "anomalous point and 0 for the others (AVG: the share of anomalous points); FORECAST "
    "evaluates, every window, where the forecast goes within its horizon.",
)
NoDataPolicy = strawberry.enum(
    DomainNoDataPolicy,
    name="NoDataPolicy",
    description="What an instance becomes after its no-data period without points: OK, "
    "NODATA, ALERTING (as if the threshold held) or KEEP_LAST (no change).",
)


@strawberry.input(description="Flapping detection: enter above `high`, leave below `low`.")
class FlappingInput:
    history: int = 20
    low: float = 0.25
    high: float = 0.5


@strawberry.input(description="An ANOMALY rule's detector and what counts as anomalous.")
class AnomalyRuleInput:
    min_score: float = strawberry.field(
        default=50.0, description="A point counts as anomalous from this score (0-100)."
    )
    direction: AnomalyDirection = DomainDirection.BOTH  # type: ignore[valid-type]
    seasonality: Seasonality = DomainSeasonality.AUTO  # type: ignore[valid-type]
    recovery_window: Duration | None = strawberry.field(
        default=None,
        description="How long the share must stay below the threshold before the alert "
        "recovers (the rule's keepFiringFor; give one or the other).",
    )


@strawberry.input(description="A FORECAST rule: how far ahead, how sure, how much history.")
class ForecastRuleInput:
    horizon: Duration = strawberry.field(default=Duration("1d"))
    confidence: float = strawberry.field(
        default=0.9, description="0.5-0.99: how likely the forecast must say the crossing is."
    )
    history: Duration = strawberry.field(default=Duration("7d"), description="History fitted.")


@strawberry.input(
    description="An alert rule. Durations are seconds (a number) or text such as 30s, 5m, 1h."
)
class AlertRuleInput:
    name: str
    metric: str
    threshold: float
    condition: Condition = DomainCondition.GT  # type: ignore[valid-type]
    aggregation: RuleAggregation = DomainAggregation.AVG  # type: ignore[valid-type]
    window: Duration = strawberry.field(
        default=Duration("1m"), description="The window aggregated; default 1m."
    )
    matchers: list[TagMatcherInput] | None = None
    group_by: list[str] | None = strawberry.field(
        default=None, description="One alert instance per combination of these tags' values."
    )
    severity: AlertSeverity = DomainSeverity.CRITICAL  # type: ignore[valid-type]
    warning_threshold: float | None = strawberry.field(
        default=None, description="A less severe level that fires at WARNING."
    )
    for_: Duration | None = strawberry.field(
        name="for", default=None, description="How long the condition holds before firing."
    )
    keep_firing_for: Duration | None = strawberry.field(
        default=None, description="How long a firing instance waits before resolving."
    )
    recovery_threshold: float | None = strawberry.field(
        default=None, description="Hysteresis: a firing instance resolves only past this."
    )
    no_data_policy: NoDataPolicy = DomainNoDataPolicy.NODATA  # type: ignore[valid-type]
    no_data_after: Duration | None = strawberry.field(
        default=None, description="Silence that counts as no data; default the window."
    )
    flapping: FlappingInput | None = None
    description: str = ""
    kind: RuleKind = DomainKind.THRESHOLD  # type: ignore[valid-type]
    anomaly: AnomalyRuleInput | None = None
    forecast: ForecastRuleInput | None = None

    def to_rule(self) -> DomainRule:
        """The domain rule; every problem is a BadUserInput naming the field."""
        flapping = self.flapping
        options: dict[str, Any] = {}
        if self.no_data_after is not None:
            options["no_data_after_us"] = parse_duration(self.no_data_after, "noDataAfter")
        keep_firing = _duration(self.keep_firing_for, "keepFiringFor")
        anomaly, forecast = self.anomaly, self.forecast
        if anomaly is not None:
            options["anomaly"] = AnomalySettings(
                anomaly.min_score,
                DomainDirection(anomaly.direction),
                DomainSeasonality(anomaly.seasonality),
            )
            if anomaly.recovery_window is not None:
                if self.keep_firing_for is not None:
                    raise BadUserInput(
                        "recoveryWindow is the keepFiringFor of an ANOMALY rule: give one"
                    )
                keep_firing = parse_duration(anomaly.recovery_window, "recoveryWindow")
        if forecast is not None:
            options["forecast"] = ForecastSettings(
                parse_duration(forecast.horizon, "horizon"),
                forecast.confidence,
                parse_duration(forecast.history, "history"),
            )
        return DomainRule(
            name=self.name,
            description=self.description,
            metric=self.metric,
            threshold=self.threshold,
            condition=DomainCondition(self.condition),
            aggregation=DomainAggregation(self.aggregation),
            window_us=parse_duration(self.window, "window"),
            matchers=matchers_of(self.matchers),
            group_by=tuple(self.group_by or ()),
            severity=DomainSeverity(self.severity),
            warning_threshold=self.warning_threshold,
            for_us=_duration(self.for_, "for"),
            keep_firing_for_us=keep_firing,
            recovery_threshold=self.recovery_threshold,
            no_data_policy=DomainNoDataPolicy(self.no_data_policy),
            flapping=(
                None
                if flapping is None
                else FlappingSettings(flapping.history, flapping.low, flapping.high)
            ),
            kind=DomainKind(self.kind),
            **options,
        )


def _duration(value: Duration | None, name: str) -> int:
    return 0 if value is None else parse_duration(value, name)


def instance_of(tags: Tags | None) -> dict[str, str] | None:
    """An instance named by its group-by tags, {"host": "web-1"}; text values only."""
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise BadUserInput('instance must be an object of text tags, e.g. {"host": "web-1"}')
    return dict(tags)
