"""Alert events, published on `alerts.<project>`, and the events a transition gives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from domain.alerting.model import AlertState, Reason, RuleKind, Transition, instance_id
from domain.alerting.rule import AlertRule
from domain.anomaly.model import Direction
from domain.events import Event
from domain.matchers import MatchOp

__all__ = [
    "ALERT_EVENTS",
    "AlertAcknowledgedEvent",
    "AlertEvent",
    "AlertResolvedEvent",
    "AlertTriggeredEvent",
    "ThresholdExceededEvent",
    "events_for",
]


@dataclass(frozen=True, slots=True)
class AlertEvent(Event):
    """What every alert event names: the rule and the instance (its group-by tags)."""

    project: str
    rule_id: str
    rule_name: str
    instance_id: str
    tags: dict[str, str]

    TOPIC: ClassVar[str] = "alerts"


@dataclass(frozen=True, slots=True)
class ThresholdExceededEvent(AlertEvent):
    """The condition started holding (the instance went pending, or firing at once)."""

    value: float | None
    threshold: float | None
    condition: str
    severity: str | None
    at_us: int


@dataclass(frozen=True, slots=True)
class AlertTriggeredEvent(AlertEvent):
    """An instance started firing, or changed severity while firing."""

    severity: str | None
    value: float | None
    threshold: float | None
    reason: str
    at_us: int
    notify: bool
    # What it fires about, for incidents and deduplication: the metric, the series (the
    # instance's tags and the rule's equality matchers) and the direction ("up", "down",
    # "any").
    metric: str = ""
    series: dict[str, str] | None = None
    direction: str = "any"


@dataclass(frozen=True, slots=True)
class AlertResolvedEvent(AlertEvent):
    value: float | None
    reason: str
    at_us: int
    notify: bool
    by: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class AlertAcknowledgedEvent(AlertEvent):
    by: str
    comment: str
    until_us: int | None
    at_us: int


# Published on the event bus (channel `alerts.<project>`) as they happen.
ALERT_EVENTS: tuple[type[AlertEvent], ...] = (
    ThresholdExceededEvent,
    AlertTriggeredEvent,
    AlertResolvedEvent,
    AlertAcknowledgedEvent,
)

_SEVERITY_CHANGES = (Reason.SEVERITY_RAISED, Reason.SEVERITY_LOWERED)


def events_for(
    project: str,
    rule_id: str,
    rule: AlertRule,
    transition: Transition,
    *,
    ack_until_us: int | None = None,
) -> list[Event]:
    """The events one transition publishes (none for pending-to-ok, flapping, ...)."""
    t = transition
    head = (
        project,
        rule_id,
        rule.name,
        instance_id(rule_id, t.instance_key),
        dict(zip(rule.group_by, t.instance_key, strict=True)),
    )
    value = t.value if t.value is not None and math.isfinite(t.value) else None
    severity = t.severity.value if t.severity else None
    events: list[Event] = []
    if t.reason is Reason.CROSSED:
        events.append(
            ThresholdExceededEvent(
                *head,
                value=value,
                threshold=t.threshold,
                condition=rule.condition.value,
                severity=severity,
                at_us=t.at_us,
            )
        )
    entered = t.from_state is not t.to_state
    if t.to_state is AlertState.FIRING and (entered or t.reason in _SEVERITY_CHANGES):
        events.append(
            AlertTriggeredEvent(
                *head,
                severity=severity,
                value=value,
                threshold=t.threshold,
                reason=t.reason.value,
                at_us=t.at_us,
                notify=t.notify,
                metric=rule.metric,
                series=_series(rule, head[4]),
                direction=_direction(rule),
            )
        )
    elif t.to_state is AlertState.RESOLVED and entered:
        events.append(
            AlertResolvedEvent(
                *head,
                value=value,
                reason=t.reason.value,
                at_us=t.at_us,
                notify=t.notify,
                by=t.by,
                comment=t.comment,
            )
        )
    elif t.reason is Reason.ACKNOWLEDGED:
        events.append(
            AlertAcknowledgedEvent(
                *head, by=t.by, comment=t.comment, until_us=ack_until_us, at_us=t.at_us
            )
        )
    return events


def _series(rule: AlertRule, tags: dict[str, str]) -> dict[str, str]:
    """The tags that say which series an instance watches: its group-by values and the
    rule's equality matchers."""
    fixed = {m.key: m.value for m in rule.matchers if m.op is MatchOp.EQ}
    return fixed | tags


def _direction(rule: AlertRule) -> str:
    """Which way the series went wrong when the rule fires."""
    if rule.kind is RuleKind.ANOMALY and rule.anomaly is not None:
        found = rule.anomaly.direction
        return found.value if found in (Direction.UP, Direction.DOWN) else "any"
    side = rule.condition.direction
    if rule.kind is RuleKind.ANOMALY:
        return "any"
    return "up" if side > 0 else "down" if side < 0 else "any"
