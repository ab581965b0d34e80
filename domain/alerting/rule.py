"""An alert rule: what to watch, how to aggregate it, and when an instance fires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.alerting.checks import coerce, problems_of
from domain.alerting.model import (
    SECOND_US,
    AlertSeverity,
    AnomalySettings,
    Condition,
    FlappingSettings,
    ForecastSettings,
    NoDataPolicy,
    RuleAggregation,
    RuleKind,
)
from domain.anomaly.model import Direction, Seasonality
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher

__all__ = ["FORECAST_NO_DATA_WINDOWS", "AlertRule", "FlappingSettings"]

# A FORECAST rule gets one value per window; by default, three windows without one (the
# series went silent, or the fit failed) count as no data.
FORECAST_NO_DATA_WINDOWS = 3


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A threshold rule over one metric; one alert instance per group of `group_by` values.

    `threshold` fires at `severity`; the optional `warning_threshold`, on the less severe
    side, fires at WARNING. Durations are microseconds. Built only valid: construction
    raises BadUserInput listing every problem.
    """

    name: str
    metric: str
    threshold: float
    condition: Condition = Condition.GT
    aggregation: RuleAggregation = RuleAggregation.AVG
    window_us: int = 60 * SECOND_US
    matchers: tuple[TagMatcher, ...] = ()
    group_by: tuple[str, ...] = ()
    severity: AlertSeverity = AlertSeverity.CRITICAL
    warning_threshold: float | None = None
    for_us: int = 0
    keep_firing_for_us: int = 0
    recovery_threshold: float | None = None
    no_data_policy: NoDataPolicy = NoDataPolicy.NODATA
    no_data_after_us: int | None = None  # None: the window
    flapping: FlappingSettings | None = None
    description: str = ""
    kind: RuleKind = RuleKind.THRESHOLD
    anomaly: AnomalySettings | None = None  # ANOMALY rules (defaults when left out)
    forecast: ForecastSettings | None = None  # FORECAST rules (defaults when left out)

    def __post_init__(self) -> None:
        problems = coerce(self)
        problems += problems_of(self)
        if problems:
            raise BadUserInput("invalid alert rule: " + "; ".join(problems), errors=problems)

    # -- what the state machine asks -------------------------------------------------------

    def level_of(self, value: float) -> AlertSeverity | None:
        """The most severe level whose condition holds for `value`, or None."""
        if self.condition.holds(value, self.threshold):
            return self.severity
        warning = self.warning_threshold
        if warning is not None and self.condition.holds(value, warning):
            return AlertSeverity.WARNING
        return None

    def threshold_for(self, severity: AlertSeverity | None) -> float:
        if severity is AlertSeverity.WARNING and self.warning_threshold is not None:
            return self.warning_threshold
        return self.threshold

    def still_active(self, value: float) -> bool:
        """While firing: has the value not yet recovered? (hysteresis when a recovery
        threshold is set: only passing it ends the alert)."""
        if self.level_of(value) is not None:
            return True
        recovery = self.recovery_threshold
        return recovery is not None and self.condition.holds(value, recovery)

    @property
    def resolve_threshold(self) -> float:
        """The threshold a value must pass for a firing instance to recover."""
        if self.recovery_threshold is not None:
            return self.recovery_threshold
        return self.warning_threshold if self.warning_threshold is not None else self.threshold

    @property
    def no_data_period_us(self) -> int:
        if self.no_data_after_us is not None:
            return self.no_data_after_us
        if self.kind is RuleKind.FORECAST:
            return FORECAST_NO_DATA_WINDOWS * self.window_us
        return self.window_us

    @property
    def input_name(self) -> str:
        """The name of the series the rule's windows read: the metric for a threshold rule;
        for the derived kinds, the metric with what derives the series (no metric name
        holds the separator), so rules meet in one window only when they read the same
        derived values."""
        if self.kind is RuleKind.ANOMALY:
            a = self.anomaly or AnomalySettings()
            return "\x1f".join(
                (self.metric, "anomaly", a.direction, a.seasonality, f"{a.min_score!r}")
            )
        if self.kind is RuleKind.FORECAST:
            f = self.forecast or ForecastSettings()
            matchers = ",".join(f"{m.key}{m.op.value}{m.value}" for m in self.matchers)
            return "\x1f".join(
                (
                    self.metric,
                    "forecast",
                    self.aggregation.value,
                    ",".join(self.group_by),
                    matchers,
                    f"{f.horizon_us}/{f.confidence!r}/{f.history_us}/{self.condition.direction}",
                )
            )
        return self.metric

    @property
    def derived(self) -> bool:
        """Its windows read a derived series, not the metric's stored points."""
        return self.kind is not RuleKind.THRESHOLD

    def group_of(self, tags: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(tags.get(key, "") for key in self.group_by)

    def validate(self, *, retention_seconds: int) -> None:
        """Raise BadUserInput if a period reaches past the data Vigil keeps."""
        retention_us = retention_seconds * SECOND_US
        problems = [
            f"{label} ({period // SECOND_US} s) is longer than the retention "
            f"({retention_seconds} s)"
            for label, period in (
                ("window", self.window_us),
                ("for", self.for_us),
                ("keep_firing_for", self.keep_firing_for_us),
                ("no_data_after", self.no_data_period_us),
                ("forecast history", self.forecast.history_us if self.forecast else 0),
            )
            if period > retention_us
        ]
        if problems:
            raise BadUserInput("invalid alert rule: " + "; ".join(problems), errors=problems)

    # -- JSON-ready form, for storage ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        flapping = self.flapping
        extra: dict[str, Any] = {}
        if self.kind is not RuleKind.THRESHOLD:  # threshold rules are stored as before
            extra["kind"] = self.kind.value
        if self.anomaly is not None:
            extra["anomaly"] = self.anomaly.to_dict()
        if self.forecast is not None:
            extra["forecast"] = self.forecast.to_dict()
        return extra | {
            "name": self.name,
            "description": self.description,
            "metric": self.metric,
            "matchers": [{"key": m.key, "op": m.op.value, "value": m.value} for m in self.matchers],
            "aggregation": self.aggregation.value,
            "window_us": self.window_us,
            "condition": self.condition.value,
            "threshold": self.threshold,
            "severity": self.severity.value,
            "warning_threshold": self.warning_threshold,
            "for_us": self.for_us,
            "keep_firing_for_us": self.keep_firing_for_us,
            "recovery_threshold": self.recovery_threshold,
            "no_data_policy": self.no_data_policy.value,
            "no_data_after_us": self.no_data_after_us,
            "group_by": list(self.group_by),
            "flapping": (
                None
                if flapping is None
                else {"history": flapping.history, "low": flapping.low, "high": flapping.high}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertRule:
        """The inverse of to_dict; a stored or submitted rule that does not parse is a
        BadUserInput, never a KeyError or ValueError."""
        try:
            flapping = data.get("flapping")
            anomaly = data.get("anomaly")
            forecast = data.get("forecast")
            return cls(
                name=data["name"],
                description=data.get("description", ""),
                metric=data["metric"],
                matchers=tuple(
                    TagMatcher(m["key"], MatchOp(m["op"]), m["value"])
                    for m in data.get("matchers", ())
                ),
                aggregation=RuleAggregation(data.get("aggregation", "avg")),
                window_us=data.get("window_us", 60 * SECOND_US),
                condition=Condition(data.get("condition", ">")),
                threshold=data["threshold"],
                severity=AlertSeverity(data.get("severity", "critical")),
                warning_threshold=data.get("warning_threshold"),
                for_us=data.get("for_us", 0),
                keep_firing_for_us=data.get("keep_firing_for_us", 0),
                recovery_threshold=data.get("recovery_threshold"),
                no_data_policy=NoDataPolicy(data.get("no_data_policy", "nodata")),
                no_data_after_us=data.get("no_data_after_us"),
                group_by=tuple(data.get("group_by", ())),
                flapping=None if flapping is None else FlappingSettings(**flapping),
                kind=RuleKind(data.get("kind", "threshold")),
                anomaly=(
                    None
                    if anomaly is None
                    else AnomalySettings(
                        min_score=anomaly.get("min_score", 50.0),
                        direction=Direction(anomaly.get("direction", "both")),
                        seasonality=Seasonality(anomaly.get("seasonality", "auto")),
                    )
                ),
                forecast=None if forecast is None else ForecastSettings(**forecast),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise BadUserInput(f"invalid alert rule: {type(exc).__name__}: {exc}") from None
