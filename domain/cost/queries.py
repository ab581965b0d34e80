"""Cost queries: the pricing, and what a range cost by owner."""

from __future__ import annotations

from dataclasses import dataclass

from domain.cost.compute import IdleMode
from domain.queries import Query

__all__ = ["GetCostReportQuery", "GetPricingQuery"]


@dataclass(frozen=True, slots=True)
class GetPricingQuery(Query):
    """The project's pricing (version 0, empty, when none was set)."""

    project: str


@dataclass(frozen=True, slots=True)
class GetCostReportQuery(Query):
    """The cost of [start, end) by the tags `group_by` (None: the owner tag), in buckets
    of `step_us` (None: one), idle kept apart or shared."""

    project: str
    start_us: int
    end_us: int
    step_us: int | None = None
    group_by: tuple[str, ...] | None = None
    idle: IdleMode = IdleMode.SEPARATE
