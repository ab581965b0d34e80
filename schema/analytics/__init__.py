"""GraphQL types of analytics: inputs, jobs, typed results per kind, live events."""

from schema.analytics.inputs import AnalyticsInput, AnalyticsJobInput, AnalyticsKind
from schema.analytics.types import (
    AnalyticsCompletedEvent,
    AnalyticsJob,
    AnalyticsJobConnection,
    AnalyticsJobState,
    AnalyticsProgress,
    AnalyticsResult,
)

__all__ = [
    "AnalyticsCompletedEvent",
    "AnalyticsInput",
    "AnalyticsJob",
    "AnalyticsJobConnection",
    "AnalyticsJobInput",
    "AnalyticsJobState",
    "AnalyticsKind",
    "AnalyticsProgress",
    "AnalyticsResult",
]
