"""Alert types, inputs and live messages of the GraphQL schema."""

from schema.alerts.inputs import (
    AlertRuleInput,
    AlertSeverity,
    AlertState,
    Condition,
    FlappingInput,
    NoDataPolicy,
    RuleAggregation,
    instance_of,
)
from schema.alerts.live import AlertAcknowledged, AlertResolved, AlertTriggered, ThresholdExceeded
from schema.alerts.types import (
    Alert,
    AlertConnection,
    AlertInstance,
    AlertPreview,
    AlertRule,
    AlertTemplate,
    AlertTransition,
)

__all__ = [
    "Alert",
    "AlertAcknowledged",
    "AlertConnection",
    "AlertInstance",
    "AlertPreview",
    "AlertResolved",
    "AlertRule",
    "AlertRuleInput",
    "AlertSeverity",
    "AlertState",
    "AlertTemplate",
    "AlertTransition",
    "AlertTriggered",
    "Condition",
    "FlappingInput",
    "NoDataPolicy",
    "RuleAggregation",
    "ThresholdExceeded",
    "instance_of",
]
