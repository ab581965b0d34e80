"""Every way an alert rule can be wrong, each said so that the user knows what to fix."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

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
from domain.matchers import TagMatcher

if TYPE_CHECKING:
    from domain.alerting.rule import AlertRule

__all__ = ["MAX_FLAPPING_HISTORY", "MAX_GROUP_BY", "coerce", "problems_of"]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.\-]*")  # as ingest checks metric names
_TAG_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.\-]*")
MAX_GROUP_BY = 16
MAX_FLAPPING_HISTORY = 100


_ENUMS: tuple[tuple[str, type[StrEnum]], ...] = (
    ("condition", Condition),
    ("aggregation", RuleAggregation),
    ("severity", AlertSeverity),
    ("no_data_policy", NoDataPolicy),
    ("kind", RuleKind),
)
# What an ANOMALY rule may aggregate over its 0/1 series: the share of anomalous points,
# whether any was, how many were.
ANOMALY_AGGREGATIONS = (RuleAggregation.AVG, RuleAggregation.MAX, RuleAggregation.SUM)
MIN_FORECAST_EVERY_US = 10 * SECOND_US
MAX_FORECAST_HORIZON_US = 90 * 86_400 * SECOND_US
MIN_FORECAST_HISTORY_US = 3_600 * SECOND_US


def coerce(rule: AlertRule) -> list[str]:
    """Accept enum values as text and lists for tuples, as JSON gives them."""
    problems: list[str] = []
    for name, enum in _ENUMS:
        value = getattr(rule, name)
        if not isinstance(value, enum):
            try:
                object.__setattr__(rule, name, enum(value))
            except (ValueError, TypeError):
                choices = ", ".join(member.value for member in enum)
                problems.append(f"{name} must be one of {choices}, not {value!r}")
    kind = rule.kind
    if kind is RuleKind.ANOMALY and rule.anomaly is None:
        object.__setattr__(rule, "anomaly", AnomalySettings())
    if kind is RuleKind.FORECAST and rule.forecast is None:
        object.__setattr__(rule, "forecast", ForecastSettings())
    if isinstance(rule.anomaly, Mapping):
        try:
            raw = dict(rule.anomaly)
            for name, enum in (("direction", Direction), ("seasonality", Seasonality)):
                if name in raw:
                    raw[name] = enum(raw[name])
            object.__setattr__(rule, "anomaly", AnomalySettings(**raw))
        except (TypeError, ValueError):
            problems.append("anomaly takes min_score, direction (up, down, both) and seasonality")
    if isinstance(rule.forecast, Mapping):
        try:
            object.__setattr__(rule, "forecast", ForecastSettings(**rule.forecast))
        except TypeError:
            problems.append("forecast takes horizon, confidence and history")
    flapping = rule.flapping
    if isinstance(flapping, Mapping):
        try:
            object.__setattr__(rule, "flapping", FlappingSettings(**flapping))
        except TypeError:
            problems.append("flapping takes history, low and high")
    elif flapping is not None and not isinstance(flapping, FlappingSettings):
        problems.append("flapping must be history, low and high")
    for name in ("matchers", "group_by"):
        value = getattr(rule, name)
        if isinstance(value, list):
            object.__setattr__(rule, name, tuple(value))
        elif not isinstance(value, tuple):
            problems.append(f"{name} must be a list, not {type(value).__name__}")
    return problems


def problems_of(rule: AlertRule) -> list[str]:
    """Every reason the rule is invalid, in field order, each saying what to do."""
    problems: list[str] = []
    if not isinstance(rule.name, str) or not rule.name.strip() or len(rule.name) > 200:
        problems.append("name must be 1 to 200 characters")
    if not isinstance(rule.metric, str) or _NAME.fullmatch(rule.metric) is None:
        problems.append(f"metric {rule.metric!r} is not a valid metric name")
    if isinstance(rule.matchers, tuple) and any(
        not isinstance(m, TagMatcher) for m in rule.matchers
    ):
        problems.append("matchers must be tag matchers")
    for label in ("window_us", "for_us", "keep_firing_for_us", "no_data_after_us"):
        value = getattr(rule, label)
        if value is not None and (type(value) is not int):
            problems.append(f"{label} must be a whole number of microseconds")
    if type(rule.window_us) is int and rule.window_us <= 0:
        problems.append("window must be positive")
    if type(rule.for_us) is int and rule.for_us < 0:
        problems.append("for must not be negative")
    if type(rule.keep_firing_for_us) is int and rule.keep_firing_for_us < 0:
        problems.append("keep_firing_for must not be negative")
    no_data = rule.no_data_after_us
    if type(no_data) is int and no_data <= 0:
        problems.append("no_data_after must be positive")
    problems += _threshold_problems(rule)
    if isinstance(rule.group_by, tuple):
        problems += _group_by_problems(rule.group_by)
    if isinstance(rule.flapping, FlappingSettings):
        problems += _flapping_problems(rule.flapping)
    if isinstance(rule.kind, RuleKind):
        problems += _kind_problems(rule)
    return problems


def _kind_problems(rule: AlertRule) -> list[str]:
    """What the derived kinds need besides a threshold rule's checks."""
    kind = rule.kind
    problems: list[str] = []
    if kind is not RuleKind.ANOMALY and rule.anomaly is not None:
        problems.append("anomaly settings belong to ANOMALY rules")
    if kind is not RuleKind.FORECAST and rule.forecast is not None:
        problems.append("forecast settings belong to FORECAST rules")
    if kind is RuleKind.ANOMALY and isinstance(rule.anomaly, AnomalySettings):
        problems += _anomaly_problems(rule, rule.anomaly)
    if kind is RuleKind.FORECAST and isinstance(rule.forecast, ForecastSettings):
        problems += _forecast_problems(rule, rule.forecast)
    return problems


def _anomaly_problems(rule: AlertRule, settings: AnomalySettings) -> list[str]:
    problems: list[str] = []
    if not _finite(settings.min_score) or not 0 < settings.min_score <= 100:
        problems.append("anomaly min_score must be within (0, 100]")
    if not isinstance(settings.direction, Direction) or settings.direction is Direction.NONE:
        problems.append("anomaly direction must be UP, DOWN or BOTH")
    if not isinstance(settings.seasonality, Seasonality):
        problems.append("anomaly seasonality must be AUTO, NONE, DAILY or WEEKLY")
    if rule.aggregation not in ANOMALY_AGGREGATIONS:
        problems.append(
            "an ANOMALY rule aggregates AVG (the share of anomalous points), MAX (any) or "
            f"SUM (how many), not {rule.aggregation.value}"
        )
    if rule.condition not in (Condition.GT, Condition.GE):
        problems.append("an ANOMALY rule fires on GT or GE (more anomalous points)")
    elif (
        rule.aggregation in (RuleAggregation.AVG, RuleAggregation.MAX)
        and _finite(rule.threshold)
        and not (
            0 <= rule.threshold < 1 if rule.condition is Condition.GT else 0 < rule.threshold <= 1
        )
    ):
        problems.append(
            "an ANOMALY rule's threshold is a share of the window's points: "
            "GE within (0, 1], GT within [0, 1)"
        )
    return problems


def _forecast_problems(rule: AlertRule, settings: ForecastSettings) -> list[str]:
    problems: list[str] = []
    if rule.condition.direction == 0:
        problems.append("a FORECAST rule compares with GT, GE, LT or LE")
    if rule.aggregation is RuleAggregation.RATE:
        problems.append("a FORECAST rule fits a chart aggregation, not RATE")
    if type(rule.window_us) is int and rule.window_us < MIN_FORECAST_EVERY_US:
        problems.append("a FORECAST rule is evaluated every window: at least 10 s")
    horizon, history = settings.horizon_us, settings.history_us
    if type(horizon) is not int or not 0 < horizon <= MAX_FORECAST_HORIZON_US:
        problems.append("forecast horizon must be positive and at most 90 days")
    if type(history) is not int or history < MIN_FORECAST_HISTORY_US:
        problems.append("forecast history must be at least 1 hour")
    if not _finite(settings.confidence) or not 0.5 <= settings.confidence <= 0.99:
        problems.append("forecast confidence must be within [0.5, 0.99]")
    return problems


def _threshold_problems(rule: AlertRule) -> list[str]:
    levels = {
        "threshold": rule.threshold,
        "warning threshold": rule.warning_threshold,
        "recovery threshold": rule.recovery_threshold,
    }
    bad = [
        label
        for label, value in levels.items()
        if value is not None and (isinstance(value, bool) or not _finite(value))
    ]
    if bad:
        return [f"{label} must be a finite number" for label in bad]
    problems: list[str] = []
    if not isinstance(rule.condition, Condition):
        return problems  # already reported
    direction = rule.condition.direction
    op = rule.condition.value
    warning, recovery = rule.warning_threshold, rule.recovery_threshold
    if warning is not None:
        if direction == 0:
            problems.append(f"a warning level needs an ordering condition, not {op!r}")
        elif (warning - rule.threshold) * direction >= 0:
            side = "below" if direction > 0 else "above"
            problems.append(
                f"for {op!r} the warning threshold must be {side} the threshold "
                f"({rule.threshold:g}): it is the less severe level"
            )
        if rule.severity is not AlertSeverity.CRITICAL:
            problems.append("a warning level needs the threshold's severity to be critical")
    if recovery is not None:
        if direction == 0:
            problems.append(f"a recovery threshold needs an ordering condition, not {op!r}")
        else:
            # beyond every level on the recovering side, even a misplaced warning level
            bounds = [rule.threshold] if warning is None else [rule.threshold, warning]
            least = min(bounds) if direction > 0 else max(bounds)
            if (recovery - least) * direction >= 0:
                side = "below" if direction > 0 else "above"
                which = "threshold" if least == rule.threshold else "warning threshold"
                problems.append(
                    f"for {op!r} the recovery threshold must be {side} the {which} "
                    f"({least:g}): the alert recovers only once the value passes it"
                )
    return problems


def _group_by_problems(group_by: tuple[str, ...]) -> list[str]:
    problems = [
        f"group_by key {key!r} is not a valid tag key"
        for key in group_by
        if not isinstance(key, str) or _TAG_KEY.fullmatch(key) is None
    ]
    if len(set(group_by)) != len(group_by):
        problems.append("group_by keys must be distinct")
    if len(group_by) > MAX_GROUP_BY:
        problems.append(f"group_by takes at most {MAX_GROUP_BY} keys")
    return problems


def _flapping_problems(flapping: FlappingSettings) -> list[str]:
    problems: list[str] = []
    if type(flapping.history) is not int or not 3 <= flapping.history <= MAX_FLAPPING_HISTORY:
        problems.append(f"flapping history must be 3 to {MAX_FLAPPING_HISTORY} evaluations")
    low, high = flapping.low, flapping.high
    if not (_finite(low) and _finite(high) and 0 <= low < high <= 1):
        problems.append("flapping bounds must satisfy 0 <= low < high <= 1")
    return problems


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
