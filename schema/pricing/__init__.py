"""Cost analytics as the GraphQL schema shows them: pricing, its input, cost reports."""

from schema.pricing.inputs import CostMappingInput, CostMetricInput, PriceInput, pricing_command
from schema.pricing.types import (
    CostReport,
    CostRole,
    CostRow,
    IdleCost,
    Price,
    Pricing,
    ResourceCost,
)

__all__ = [
    "CostMappingInput",
    "CostMetricInput",
    "CostReport",
    "CostRole",
    "CostRow",
    "IdleCost",
    "Price",
    "PriceInput",
    "Pricing",
    "ResourceCost",
    "pricing_command",
]
