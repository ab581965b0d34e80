"""Usage analytics types: usage rows, cardinality, unused metrics."""

from schema.usage.types import (
    Cardinality,
    KeyCardinality,
    MetricCardinality,
    TagValueCardinality,
    UnusedMetric,
    Usage,
    UsageRow,
)

__all__ = [
    "Cardinality",
    "KeyCardinality",
    "MetricCardinality",
    "TagValueCardinality",
    "UnusedMetric",
    "Usage",
    "UsageRow",
]
