"""What cost operations answer: the pricing, and a cost report rounded to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.cost.compute import IdleMode
from domain.cost.model import Pricing

__all__ = ["CostReportDto", "CostRowDto", "PricingDto", "ResourceCostDto"]


@dataclass(frozen=True, slots=True)
class PricingDto:
    pricing: Pricing


@dataclass(frozen=True, slots=True)
class ResourceCostDto:
    """One resource of a row. Amounts are in `unit`: quantity-hours of the resource's
    latest price (core-hour, GiB-hour) when held, its quantity (GB, thousand) when
    counted; `idle` is the shared idle included in `cost` (SHARED)."""

    resource: str
    cost: Decimal
    idle: Decimal
    unit: str
    requested: float
    used: float
    allocated: float
    efficiency: float | None  # used / requested; None without a request


@dataclass(frozen=True, slots=True)
class CostRowDto:
    """One owner group (its `tags`), or the idle part (no tags)."""

    tags: dict[str, str]
    cost: Decimal  # cents; the rows and idle add up to the report's total exactly
    values: list[float]  # the exact cost of each bucket, for charts
    resources: list[ResourceCostDto]
    efficiency: float | None  # usage cost / request cost, over every resource


@dataclass(frozen=True, slots=True)
class CostReportDto:
    project: str
    currency: str
    start_us: int
    end_us: int
    step_us: int | None
    idle_mode: IdleMode
    group_by: tuple[str, ...]
    timestamps_us: list[int]
    total: Decimal
    rows: list[CostRowDto]
    idle: CostRowDto
    exact_total: Decimal  # before rounding, for the curious and the tests
