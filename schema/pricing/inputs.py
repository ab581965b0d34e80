"""The input of configurePricing: prices (exact decimals) and the metric mapping."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.cost import model
from domain.cost.commands import ConfigurePricingCommand
from domain.errors import BadUserInput
from schema.pricing.types import CostRole
from schema.types import to_us

__all__ = ["CostMappingInput", "CostMetricInput", "PriceInput", "pricing_command"]


@strawberry.input
class PriceInput:
    resource: str = strawberry.field(
        description="cpu_cores, memory_bytes, disk_bytes, network_bytes, or a vigil.usage.* metric."
    )
    unit: str = strawberry.field(
        description='A quantity, per period for held resources: "core-hour", "GiB-month", '
        '"GB", "thousand"...'
    )
    price: Decimal = strawberry.field(description='Exact, as text: "0.031".')
    currency: str = strawberry.field(description="ISO 4217: USD, EUR, ...")
    valid_from: datetime | None = strawberry.field(
        default=None, description="Until the resource's next price; none: since ever."
    )


@strawberry.input
class CostMetricInput:
    resource: str
    role: CostRole  # type: ignore[valid-type]
    metric: str = strawberry.field(description="The project's metric that measures it.")


@strawberry.input
class CostMappingInput:
    metrics: list[CostMetricInput]
    owner_tag: str = strawberry.field(default="owner", description="The tag naming the owner.")
    node_tag: str = strawberry.field(default="node", description="The tag naming the node.")


def pricing_command(
    project: str,
    prices: list[PriceInput],
    mapping: CostMappingInput,
    expected_version: int | None,
    actor: str,
) -> ConfigurePricingCommand:
    if len(prices) > model.MAX_PRICES or len(mapping.metrics) > model.MAX_MAPPINGS:
        raise BadUserInput(f"at most {model.MAX_PRICES} prices and {model.MAX_MAPPINGS} metrics")
    return ConfigurePricingCommand(
        project=project,
        prices=tuple(
            model.Price(
                resource=p.resource,
                unit=p.unit,
                price=p.price,
                currency=p.currency,
                valid_from_us=to_us(p.valid_from) or 0,
            )
            for p in prices
        ),
        metrics=tuple(
            model.CostMetric(m.resource, model.CostRole(m.role), m.metric) for m in mapping.metrics
        ),
        owner_tag=mapping.owner_tag,
        node_tag=mapping.node_tag,
        expected_version=expected_version,
        actor=actor,
    )
