"""Alert output types: the RFC's AlertDto, its rule, instances, history and templates."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.alerting import AlertRule as DomainRule
from domain.alerting import AlertTemplate as DomainTemplate
from domain.alerting import InstanceState, Transition, instance_id
from domain.alerting.queries import GetAlertHistoryQuery
from domain.alerting.read_models import AlertDto, AlertPreviewDto
from domain.durations import seconds_of
from schema.alerts.inputs import (
    AlertSeverity,
    AlertState,
    Condition,
    NoDataPolicy,
    RuleAggregation,
    RuleKind,
)
from schema.anomaly.inputs import AnomalyDirection, Seasonality
from schema.context import Info
from schema.scalars import Duration, Tags
from schema.types import MatchOp, PageInfo, from_us, to_us

__all__ = [
    "Alert",
    "AlertConnection",
    "AlertInstance",
    "AlertPreview",
    "AlertRule",
    "AlertTemplate",
    "AlertTransition",
]


def _at(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


@strawberry.type
class RuleMatcher:
    key: str
    op: MatchOp
    value: str


@strawberry.type
class Flapping:
    history: int
    low: float
    high: float


@strawberry.type(description="What an ANOMALY rule counts as anomalous.")
class AnomalyRuleSettings:
    min_score: float
    direction: AnomalyDirection  # type: ignore[valid-type]
    seasonality: Seasonality  # type: ignore[valid-type]


@strawberry.type(description="A FORECAST rule's forecast; durations in seconds.")
class ForecastRuleSettings:
    horizon: Duration
    confidence: float
    history: Duration


@strawberry.type(description="An alert rule; durations in seconds.")
class AlertRule:
    name: str
    description: str
    metric: str
    matchers: list[RuleMatcher]
    aggregation: RuleAggregation  # type: ignore[valid-type]
    window: Duration
    condition: Condition  # type: ignore[valid-type]
    threshold: float
    severity: AlertSeverity  # type: ignore[valid-type]
    warning_threshold: float | None
    for_: Duration = strawberry.field(name="for")
    keep_firing_for: Duration
    recovery_threshold: float | None
    no_data_policy: NoDataPolicy  # type: ignore[valid-type]
    no_data_after: Duration = strawberry.field(description="Silence counted as no data.")
    group_by: list[str]
    flapping: Flapping | None
    kind: RuleKind  # type: ignore[valid-type]
    anomaly: AnomalyRuleSettings | None
    forecast: ForecastRuleSettings | None

    @classmethod
    def of(cls, r: DomainRule) -> AlertRule:
        f = r.flapping
        a, fc = r.anomaly, r.forecast
        return cls(
            kind=r.kind,
            anomaly=(
                None
                if a is None
                else AnomalyRuleSettings(
                    min_score=a.min_score, direction=a.direction, seasonality=a.seasonality
                )
            ),
            forecast=(
                None
                if fc is None
                else ForecastRuleSettings(
                    horizon=Duration(seconds_of(fc.horizon_us)),
                    confidence=fc.confidence,
                    history=Duration(seconds_of(fc.history_us)),
                )
            ),
            name=r.name,
            description=r.description,
            metric=r.metric,
            matchers=[RuleMatcher(key=m.key, op=MatchOp(m.op), value=m.value) for m in r.matchers],
            aggregation=r.aggregation,
            window=Duration(seconds_of(r.window_us)),
            condition=r.condition,
            threshold=r.threshold,
            severity=r.severity,
            warning_threshold=r.warning_threshold,
            for_=Duration(seconds_of(r.for_us)),
            keep_firing_for=Duration(seconds_of(r.keep_firing_for_us)),
            recovery_threshold=r.recovery_threshold,
            no_data_policy=r.no_data_policy,
            no_data_after=Duration(seconds_of(r.no_data_period_us)),
            group_by=list(r.group_by),
            flapping=None if f is None else Flapping(history=f.history, low=f.low, high=f.high),
        )


@strawberry.type(description="One alert instance: the series group named by `key`.")
class AlertInstance:
    id: str
    key: Tags = strawberry.field(description="The group-by tags naming the instance.")
    state: AlertState  # type: ignore[valid-type]
    severity: AlertSeverity | None  # type: ignore[valid-type]
    since: datetime | None = strawberry.field(description="When the state was entered.")
    value: float | None = strawberry.field(description="The last evaluated aggregate.")
    last_point_at: datetime | None
    flapping: bool
    acknowledged_by: str | None
    acknowledged_until: datetime | None
    acknowledged_comment: str | None

    @classmethod
    def of(cls, alert_id: str, rule: DomainRule, s: InstanceState) -> AlertInstance:
        ack = s.ack
        return cls(
            id=instance_id(alert_id, s.key),
            key=Tags(dict(zip(rule.group_by, s.key, strict=True))),
            state=s.state,
            severity=s.severity,
            since=_at(s.since_us),
            value=s.value,
            last_point_at=_at(s.last_point_us),
            flapping=s.flapping,
            acknowledged_by=ack.by if ack else None,
            acknowledged_until=_at(ack.until_us) if ack else None,
            acknowledged_comment=ack.comment if ack else None,
        )


@strawberry.type(description="One recorded change of an instance and what caused it.")
class AlertTransition:
    instance: Tags
    from_state: AlertState = strawberry.field(name="from")  # type: ignore[valid-type]
    to_state: AlertState = strawberry.field(name="to")  # type: ignore[valid-type]
    at: datetime
    value: float | None
    threshold: float | None
    reason: str
    severity: AlertSeverity | None  # type: ignore[valid-type]
    notify: bool = strawberry.field(description="Whether it notifies (the notification view).")
    by: str
    comment: str

    @classmethod
    def of(cls, rule: DomainRule, t: Transition) -> AlertTransition:
        return cls(
            instance=Tags(dict(zip(rule.group_by, t.instance_key, strict=False))),
            from_state=t.from_state,
            to_state=t.to_state,
            at=from_us(t.at_us),
            value=t.value,
            threshold=t.threshold,
            reason=t.reason.value,
            severity=t.severity,
            notify=t.notify,
            by=t.by,
            comment=t.comment,
        )


async def _history(
    root: Alert, info: Info, first: int = 50, before: datetime | None = None
) -> list[AlertTransition]:
    alert = root._dto.alert
    found: list[Transition] = await info.context.bus.ask(
        GetAlertHistoryQuery(alert.project, alert.id, first, to_us(before))
    )
    return [AlertTransition.of(alert.rule, t) for t in found]


@strawberry.type(description="An alert (the RFC's AlertDto): a rule and its instances.")
class Alert:
    id: strawberry.ID
    project: str
    name: str
    description: str
    rule: AlertRule
    enabled: bool
    version: int = strawberry.field(description="Send it as expectedVersion to updateAlert.")
    template: str | None
    state: AlertState = strawberry.field(  # type: ignore[valid-type]
        description="The most pressing instance state (FIRING first); OK without instances."
    )
    severity: AlertSeverity = strawberry.field(  # type: ignore[valid-type]
        description="The highest severity among active instances, else the rule's."
    )
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    updated_by: str | None
    resolved_at: datetime | None
    instances: list[AlertInstance]
    history: list[AlertTransition] = strawberry.field(
        resolver=_history, description="Transitions of every instance, newest first."
    )
    _dto: strawberry.Private[AlertDto]

    @classmethod
    def of(cls, dto: AlertDto) -> Alert:
        a = dto.alert
        return cls(
            id=strawberry.ID(a.id),
            project=a.project,
            name=a.rule.name,
            description=a.rule.description,
            rule=AlertRule.of(a.rule),
            enabled=a.enabled,
            version=a.version,
            template=a.template or None,
            state=dto.state,
            severity=dto.severity,
            created_at=from_us(a.created_at_us),
            created_by=a.created_by,
            updated_at=_at(a.updated_at_us),
            updated_by=a.updated_by or None,
            resolved_at=_at(dto.resolved_at_us),
            instances=[AlertInstance.of(a.id, a.rule, s) for s in dto.instances],
            _dto=dto,
        )


@strawberry.type(description="A page of alerts, oldest first.")
class AlertConnection:
    items: list[Alert]
    page_info: PageInfo


@strawberry.type
class TemplateParameter:
    name: str
    description: str
    default: float
    minimum: float
    maximum: float
    integer: bool


@strawberry.type(description="A reusable rule with parameters; createAlertFromTemplate fills it.")
class AlertTemplate:
    name: str
    description: str
    parameters: list[TemplateParameter]

    @classmethod
    def of(cls, t: DomainTemplate) -> AlertTemplate:
        return cls(
            name=t.name,
            description=t.description,
            parameters=[
                TemplateParameter(
                    name=p.name,
                    description=p.description,
                    default=p.default,
                    minimum=p.minimum,
                    maximum=p.maximum,
                    integer=p.integer,
                )
                for p in t.parameters
            ],
        )


@strawberry.type(description="A rule replayed over stored points; nothing was saved.")
class AlertPreview:
    points: int = strawberry.field(description="Stored points replayed.")
    transitions: list[AlertTransition]
    notifications: list[AlertTransition] = strawberry.field(
        description="The transitions that notify."
    )
    instances: list[AlertInstance] = strawberry.field(description="Where each one ended.")

    @classmethod
    def of(cls, rule: DomainRule, dto: AlertPreviewDto) -> AlertPreview:
        r = dto.result
        return cls(
            points=dto.points,
            transitions=[AlertTransition.of(rule, t) for t in r.transitions],
            notifications=[AlertTransition.of(rule, t) for t in r.notifications],
            instances=[AlertInstance.of("preview", rule, s) for s in r.instances],
        )
