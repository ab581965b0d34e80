"""The alerting vocabulary: severities, states, conditions, policies, reasons, transitions."""

from __future__ import annotations

import hashlib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.anomaly.model import Direction, Seasonality
from domain.errors import BadUserInput
from domain.metrics.model import Aggregation

__all__ = [
    "DAY_US",
    "MINUTE_US",
    "SECOND_US",
    "AlertSeverity",
    "AlertState",
    "AnomalySettings",
    "Condition",
    "FlappingSettings",
    "ForecastSettings",
    "InstanceKey",
    "InvalidTransition",
    "NoDataPolicy",
    "Reason",
    "RuleAggregation",
    "RuleKind",
    "Transition",
    "instance_id",
]

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
DAY_US = 1_440 * MINUTE_US

# The values of the rule's group-by tags, in group-by order: one alert instance each.
InstanceKey = tuple[str, ...]


class InvalidTransition(BadUserInput):
    """A user asked for a move the state machine does not allow (ack an OK alert, ...)."""


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical: higher is more severe."""
        return _RANK[self]


_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


class AlertState(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NODATA = "nodata"
    ERROR = "error"


class Condition(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def holds(self, value: float, threshold: float) -> bool:
        return _OPS[self](value, threshold)

    @property
    def direction(self) -> int:
        """+1 when larger values are worse (> >=), -1 when smaller are (< <=), 0 for == !=."""
        return 1 if self in (Condition.GT, Condition.GE) else -1 if self in _BELOW else 0


_BELOW = (Condition.LT, Condition.LE)
_OPS: Mapping[Condition, Callable[[float, float], bool]] = {
    Condition.GT: operator.gt,
    Condition.GE: operator.ge,
    Condition.LT: operator.lt,
    Condition.LE: operator.le,
    Condition.EQ: operator.eq,
    Condition.NE: operator.ne,
}


class NoDataPolicy(StrEnum):
    """What an instance becomes after the rule's no-data period without points (Grafana)."""

    OK = "ok"
    NODATA = "nodata"
    ALERTING = "alerting"
    KEEP_LAST = "keep_last"


class RuleAggregation(StrEnum):
    """The chart aggregations (domain.metrics.Aggregation) plus `rate` for counters."""

    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"
    RATE = "rate"
    P50 = "p50"
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"

    @property
    def quantile(self) -> float | None:
        """0.5 for p50 and so on, as domain.metrics.Aggregation; None for the others."""
        return _QUANTILES.get(self)


_QUANTILES = {
    member: Aggregation(member.value).quantile
    for member in RuleAggregation
    if member.value.startswith("p")
}


@dataclass(frozen=True, slots=True)
class FlappingSettings:
    """Kapacitor-style flapping: the weighted state-change rate over the last `history`
    evaluations enters flapping above `high` and leaves it below `low`."""

    history: int = 20
    low: float = 0.25
    high: float = 0.5


class RuleKind(StrEnum):
    """What a rule's windows aggregate: the metric's points (THRESHOLD), or a series derived
    from them that the same machine evaluates: ANOMALY (1 for each point whose anomaly score
    reaches `min_score`, else 0, so AVG is the share of anomalous points) or FORECAST (one
    value per evaluation: the forecast's extreme within the horizon at the confidence)."""

    THRESHOLD = "threshold"
    ANOMALY = "anomaly"
    FORECAST = "forecast"


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """An ANOMALY rule's detector: a point counts as anomalous when its score (0-100,
    -10 log10 p) reaches `min_score`; `direction` and `seasonality` configure the detector."""

    min_score: float = 50.0
    direction: Direction = Direction.BOTH
    seasonality: Seasonality = Seasonality.AUTO

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_score": self.min_score,
            "direction": self.direction.value,
            "seasonality": self.seasonality.value,
        }


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """A FORECAST rule: every window, the last `history_us` of the metric (per group) is
    fitted with the analytics forecast model, and the value evaluated is where the forecast
    goes within `horizon_us` with probability `confidence`: for > and >=, the highest value
    of its (1 - confidence) quantile path (at least that likely to be reached); for < and
    <=, the lowest of its `confidence` quantile path."""

    horizon_us: int = DAY_US
    confidence: float = 0.9
    history_us: int = 7 * DAY_US

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon_us": self.horizon_us,
            "confidence": self.confidence,
            "history_us": self.history_us,
        }


class Reason(StrEnum):
    """Why a transition happened: the named rules of the state machine."""

    CROSSED = "threshold crossed"
    PENDING_ELAPSED = "pending period elapsed"
    CLEARED = "condition cleared"
    RECOVERED = "recovery threshold passed"
    KEEP_FIRING_ELAPSED = "keep-firing period elapsed"
    SEVERITY_RAISED = "severity raised"
    SEVERITY_LOWERED = "severity lowered"
    NO_DATA = "no data"
    DATA_BACK = "data back"
    ERROR = "evaluation failed"
    ERROR_CLEARED = "evaluation recovered"
    ACKNOWLEDGED = "acknowledged"
    ACK_EXPIRED = "acknowledgement expired"
    MANUAL_RESOLVE = "resolved by hand"
    FLAPPING_STARTED = "flapping started"
    FLAPPING_STOPPED = "flapping stopped"


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded change of an instance, with what caused it.

    `from_state == to_state` marks a change inside a state: a severity change while firing
    or acknowledged, an acknowledgement renewed, flapping starting or stopping.
    `severity` is the instance's severity after the move (before it, for a move to OK or
    RESOLVED). `notify` is False for moves nobody is told about (pending, acknowledged)
    and for every move while the instance flaps (held notifications).
    """

    instance_key: InstanceKey
    from_state: AlertState
    to_state: AlertState
    at_us: int
    value: float | None
    threshold: float | None
    reason: Reason
    severity: AlertSeverity | None = None
    notify: bool = False
    by: str = ""
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        return {
            "instance_key": list(self.instance_key),
            "from_state": self.from_state.value,
            "to_state": self.to_state.value,
            "at_us": self.at_us,
            "value": value if value is not None and math.isfinite(value) else None,
            "threshold": self.threshold,
            "reason": self.reason.value,
            "severity": self.severity.value if self.severity else None,
            "notify": self.notify,
            "by": self.by,
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        severity = data.get("severity")
        return cls(
            instance_key=tuple(data["instance_key"]),
            from_state=AlertState(data["from_state"]),
            to_state=AlertState(data["to_state"]),
            at_us=int(data["at_us"]),
            value=data.get("value"),
            threshold=data.get("threshold"),
            reason=Reason(data["reason"]),
            severity=AlertSeverity(severity) if severity else None,
            notify=bool(data.get("notify", False)),
            by=str(data.get("by", "")),
            comment=str(data.get("comment", "")),
        )


def instance_id(rule_id: str, key: InstanceKey) -> str:
    """A stable id for one alert instance: the same in every store and after a restart."""
    text = "\x1f".join([rule_id, *key])
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
