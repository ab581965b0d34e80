"""Usage operations: a project's usage by any tags, every project's (system admins),
cardinality, unused metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.access import SYSTEM_PROJECT, Permission
from domain.durations import parse_step
from domain.errors import BadUserInput, Forbidden
from domain.usage.queries import (
    GetCardinalityQuery,
    GetUnusedMetricsQuery,
    GetUsageAllQuery,
    GetUsageQuery,
)
from schema.context import Info
from schema.types import to_us
from schema.usage import Cardinality, UnusedMetric, Usage

__all__ = ["cardinality", "unused_metrics", "usage", "usage_all"]

DEFAULT_RANGE_US = 86_400_000_000  # the last day
DEFAULT_STEP = "1h"


def _range(info: Info, from_: datetime | None, to: datetime | None) -> tuple[int, int]:
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_RANGE_US
    return start, end


async def usage(
    info: Info,
    project: str,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    step: str = DEFAULT_STEP,
    group_by: list[str] | None = None,
) -> Usage:
    """What the project used per bucket (the last day by hour by default), by any tags of
    its series (`groupBy`), and every figure for the whole project (`totals`)."""
    start, end = _range(info, from_, to)
    report = await info.context.bus.ask(
        GetUsageQuery(project, start, end, parse_step(step), tuple(group_by or ()))
    )
    return Usage.of(report)


async def usage_all(
    info: Info,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    step: str = DEFAULT_STEP,
) -> list[Usage]:
    """Every project's usage, for administrators of the `system` project."""
    principal = info.context.require_principal()
    if not principal.can(SYSTEM_PROJECT, Permission.ADMINISTER):
        raise Forbidden(principal.refusal(SYSTEM_PROJECT, Permission.ADMINISTER, "usageAll"))
    start, end = _range(info, from_, to)
    reports = await info.context.bus.ask(GetUsageAllQuery(start, end, parse_step(step)))
    return [Usage.of(r) for r in reports]


async def cardinality(
    info: Info, project: str, metric: str | None = None, first: int = 20
) -> Cardinality:
    """Series by metric and tag key, and the tag values that bring the most series."""
    if metric is not None and not metric:
        raise BadUserInput("metric must not be empty")
    return Cardinality.of(await info.context.bus.ask(GetCardinalityQuery(project, metric, first)))


async def unused_metrics(
    info: Info, project: str, days: int = 30, first: int = 100
) -> list[UnusedMetric]:
    """Metrics that no dashboard, rule, report or query read in the last `days`."""
    found = await info.context.bus.ask(GetUnusedMetricsQuery(project, days, first))
    return [UnusedMetric.of(m) for m in found]
