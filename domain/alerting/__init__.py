"""Alerting: rules, streaming windows, the alert state machine, templates and preview."""

from domain.alerting.alert import Alert
from domain.alerting.evaluator import RuleEvaluator
from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
    ThresholdExceededEvent,
    events_for,
)
from domain.alerting.flapping import change_rate
from domain.alerting.machine import acknowledge, evaluate, resolve
from domain.alerting.model import (
    MINUTE_US,
    SECOND_US,
    AlertSeverity,
    AlertState,
    Condition,
    FlappingSettings,
    InstanceKey,
    InvalidTransition,
    NoDataPolicy,
    Reason,
    RuleAggregation,
    Transition,
    instance_id,
)
from domain.alerting.ports import AlertStore
from domain.alerting.preview import PreviewResult, preview
from domain.alerting.rule import AlertRule
from domain.alerting.state import NO_DATA, Acknowledgement, InstanceState, Observation
from domain.alerting.templates import (
    BUILTIN_TEMPLATES,
    AlertTemplate,
    TemplateParameter,
    builtin_template,
)
from domain.alerting.windows import GroupWindows

__all__ = [
    "BUILTIN_TEMPLATES",
    "MINUTE_US",
    "NO_DATA",
    "SECOND_US",
    "Acknowledgement",
    "Alert",
    "AlertAcknowledgedEvent",
    "AlertEvent",
    "AlertResolvedEvent",
    "AlertRule",
    "AlertSeverity",
    "AlertState",
    "AlertStore",
    "AlertTemplate",
    "AlertTriggeredEvent",
    "Condition",
    "FlappingSettings",
    "GroupWindows",
    "InstanceKey",
    "InstanceState",
    "InvalidTransition",
    "NoDataPolicy",
    "Observation",
    "PreviewResult",
    "Reason",
    "RuleAggregation",
    "RuleEvaluator",
    "TemplateParameter",
    "ThresholdExceededEvent",
    "Transition",
    "acknowledge",
    "builtin_template",
    "change_rate",
    "evaluate",
    "events_for",
    "instance_id",
    "preview",
    "resolve",
]
