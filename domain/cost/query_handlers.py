"""Cost query handlers: the pricing, and the cost report read through the series query
(`GetMetricSeriesQuery` with the report's step, so the rollup tiers serve long ranges)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.buckets import BucketGrid
from domain.cost.compute import Bucket, Reading, compute
from domain.cost.model import CostMetric, Pricing
from domain.cost.ports import PricingStore
from domain.cost.queries import GetCostReportQuery, GetPricingQuery
from domain.cost.read_models import CostReportDto, PricingDto
from domain.cost.report import rounded
from domain.errors import BadUserInput, NotFound
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult

__all__ = ["MAX_GROUP_BY", "cost_report", "pricing"]

MAX_GROUP_BY = 10
MAX_RANGE_US = 400 * 86_400_000_000
Ask = Callable[[Any], Awaitable[Any]]


async def pricing(query: GetPricingQuery, *, pricing_store: PricingStore) -> PricingDto:
    found = await pricing_store.get_pricing(query.project)
    return PricingDto(found or Pricing(query.project))


async def cost_report(
    query: GetCostReportQuery, *, pricing_store: PricingStore, ask: Ask
) -> CostReportDto:
    if not 0 < query.end_us - query.start_us <= MAX_RANGE_US:
        raise BadUserInput("`to` must be after `from`, by at most 400 days")
    grid = BucketGrid.checked(query.start_us, query.end_us, query.step_us)
    found = await pricing_store.get_pricing(query.project)
    if found is None:
        raise NotFound(f"project {query.project!r} has no pricing: configurePricing sets one")
    group_by = query.group_by if query.group_by else (found.owner_tag,)
    if len(group_by) > MAX_GROUP_BY or len(set(group_by)) != len(group_by):
        raise BadUserInput(f"groupBy takes 1 to {MAX_GROUP_BY} different tags")
    if any(not tag.strip() for tag in group_by):
        raise BadUserInput("groupBy names tags: an empty name is none")
    buckets = _buckets(grid)
    readings = [await _read(ask, query, buckets, found, m) for m in found.metrics]
    exact = compute(found, buckets, readings, group_by, query.idle)
    return rounded(
        exact,
        project=query.project,
        currency=found.currency,
        start_us=query.start_us,
        end_us=query.end_us,
        step_us=query.step_us,
        mode=query.idle,
        group_by=tuple(group_by),
        units=found.amount_units(),
    )


def _buckets(grid: BucketGrid) -> list[Bucket]:
    step = grid.step_us
    if step is None:
        return [Bucket(grid.start_us, grid.start_us, grid.end_us)]
    return [Bucket(t, max(t, grid.start_us), min(t + step, grid.end_us)) for t in grid.timestamps()]


async def _read(
    ask: Ask, query: GetCostReportQuery, buckets: list[Bucket], found: Pricing, m: CostMetric
) -> Reading:
    """One mapped metric, one line per series: a held resource's bucket average, a counted
    one's bucket sum, on the report's grid."""
    aggregation = Aggregation.AVG if found.held(m.resource) else Aggregation.SUM
    result: SeriesResult = await ask(
        GetMetricSeriesQuery(
            project=query.project,
            name=m.metric,
            start_us=query.start_us,
            end_us=query.end_us,
            aggregation=aggregation,
            step_us=query.step_us,
        )
    )
    index = {t: i for i, t in enumerate(result.timestamps_us)}
    at = [index.get(b.start_us) for b in buckets]
    series = [(s.tags, [None if i is None else s.values[i] for i in at]) for s in result.series]
    return Reading(m.resource, m.role, series)
