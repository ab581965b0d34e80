"""Cost operations: read and configure a project's pricing, and its cost report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.cost.compute import IdleMode
from domain.cost.queries import GetCostReportQuery, GetPricingQuery
from domain.cost.read_models import CostReportDto, PricingDto
from domain.durations import parse_step
from schema.context import Info
from schema.pricing import (
    CostMappingInput,
    CostReport,
    IdleCost,
    PriceInput,
    Pricing,
    pricing_command,
)
from schema.types import to_us

__all__ = ["DEFAULT_RANGE_US", "configure_pricing", "cost_report", "pricing"]

DEFAULT_RANGE_US = 86_400_000_000  # a day before `to`


async def pricing(info: Info, project: str) -> Pricing:
    """The project's pricing; version 0 and empty when none was configured."""
    found: PricingDto = await info.context.bus.ask(GetPricingQuery(project))
    return Pricing.of(found.pricing)


async def configure_pricing(
    info: Info,
    project: str,
    prices: list[PriceInput],
    mapping: CostMappingInput,
    expected_version: int | None = None,
) -> Pricing:
    """Replace the price table and mapping. With `expectedVersion`, refused with CONFLICT
    if they changed since (0: never configured)."""
    actor = info.context.require_principal().subject
    command = pricing_command(project, prices, mapping, expected_version, actor)
    answer: PricingDto = await info.context.bus.handle(
        command, actor=actor, request_id=info.context.request_id
    )
    return Pricing.of(answer.pricing)


async def cost_report(
    info: Info,
    project: str,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    step: str | None = None,
    group_by: list[str] | None = None,
    idle: IdleCost = IdleMode.SEPARATE,  # type: ignore[valid-type]
) -> CostReport:
    """What [from, to) cost by the tags `groupBy` (default: the owner tag), in buckets of
    `step` (none: one). The range defaults to the day before `to`, and `to` to now."""
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_RANGE_US
    answer: CostReportDto = await info.context.bus.ask(
        GetCostReportQuery(
            project=project,
            start_us=start,
            end_us=end,
            step_us=parse_step(step) if step else None,
            group_by=tuple(group_by) if group_by else None,
            idle=IdleMode(idle),
        )
    )
    return CostReport.of(answer)
