"""Builders shared by the AlertStore contract tests."""

from __future__ import annotations

from typing import cast

from domain.alerting.alert import Alert
from domain.alerting.model import (
    MINUTE_US,
    SECOND_US,
    AlertSeverity,
    AlertState,
    Condition,
    FlappingSettings,
    NoDataPolicy,
    Reason,
    RuleAggregation,
    Transition,
)
from domain.alerting.ports import AlertStore
from domain.alerting.rule import AlertRule
from domain.alerting.state import Acknowledgement, InstanceState
from domain.matchers import MatchOp, TagMatcher
from tests.contract.conftest import StoreDatabase
from tests.contract.data import NOW_US

T0 = NOW_US


def alerts_of(db: StoreDatabase) -> AlertStore:
    return cast(AlertStore, db.alerts)  # type: ignore[attr-defined]


def full_rule(name: str = "cpu high") -> AlertRule:
    """Every field away from its default, so that a lost field shows."""
    return AlertRule(
        name=name,
        metric="cpu.usage",
        threshold=90.5,
        condition=Condition.GE,
        aggregation=RuleAggregation.P95,
        window_us=5 * MINUTE_US,
        matchers=(
            TagMatcher("env", MatchOp.EQ, "prod"),
            TagMatcher("host", MatchOp.REGEX, "web-[0-9]+"),
        ),
        group_by=("host", "region"),
        severity=AlertSeverity.CRITICAL,
        warning_threshold=75.25,
        for_us=30 * SECOND_US,
        keep_firing_for_us=2 * MINUTE_US,
        recovery_threshold=70.0,
        no_data_policy=NoDataPolicy.KEEP_LAST,
        no_data_after_us=10 * MINUTE_US,
        flapping=FlappingSettings(history=10, low=0.2, high=0.6),
        description="CPU is high — über «quoted» $dollar.dot",
    )


def alert(
    alert_id: str,
    project: str = "alpha",
    *,
    created: int = 0,
    enabled: bool = True,
    rule: AlertRule | None = None,
) -> Alert:
    return Alert(
        id=alert_id,
        project=project,
        rule=rule or AlertRule(name=f"rule {alert_id}", metric="cpu", threshold=90.0),
        created_at_us=T0 + created,
        created_by="ann",
        enabled=enabled,
        template="",
    )


def transition(
    at: int, to: AlertState, key: tuple[str, ...] = ("h1",), frm: AlertState = AlertState.OK
) -> Transition:
    return Transition(
        instance_key=key,
        from_state=frm,
        to_state=to,
        at_us=T0 + at,
        value=91.5,
        threshold=90.0,
        reason=Reason.CROSSED,
        severity=AlertSeverity.CRITICAL,
        notify=True,
        by="",
        comment=f"at {at} to {to.value}",
    )


ACKED = InstanceState(
    key=("web-1", "eu-west"),
    state=AlertState.ACKNOWLEDGED,
    severity=AlertSeverity.WARNING,
    since_us=T0 - MINUTE_US,
    value=0.1 + 0.2,  # 0.30000000000000004: floats come back bit for bit
    last_point_us=T0 - 1,
    keep_firing_since_us=None,
    ack=Acknowledgement("bob", "looking — «into» it", T0 - 5, T0 + MINUTE_US),
    history=(AlertState.OK, AlertState.FIRING, AlertState.OK, AlertState.FIRING),
    flapping=True,
    notified_state=AlertState.FIRING,
    notified_severity=AlertSeverity.CRITICAL,
)
# Keys that a joined string or a careless encoding would confuse or lose.
ODD_KEYS: list[tuple[str, ...]] = [
    (),
    ("",),
    ("", ""),
    ("a\x1fb",),
    ("a", "b"),
    ('"quoted"', "back\\slash"),
    ("$dollar", "a.b"),
    ("ünïcödé", "日本"),
]


def by_key(states: list[InstanceState]) -> dict[tuple[str, ...], InstanceState]:
    return {s.key: s for s in states}
