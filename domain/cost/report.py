"""A cost report from the exact costs: cents apportioned so that the parts add up.

The total is the exact sum rounded to the cent (half to even); the rows and the idle part
share its cents by largest remainder, and each row's resources share the row's cents the
same way (cents.py). So rows + idle = total, and a row's resources = the row, exactly;
each figure is within a cent of its exact amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext

from domain.cost.cents import apportion, to_cents
from domain.cost.compute import EXACT, ZERO, ExactCosts, ExactRow, IdleMode
from domain.cost.read_models import CostReportDto, CostRowDto, ResourceCostDto

__all__ = ["rounded"]


def rounded(
    exact: ExactCosts,
    *,
    project: str,
    currency: str,
    start_us: int,
    end_us: int,
    step_us: int | None,
    mode: IdleMode,
    group_by: tuple[str, ...],
    units: Mapping[str, tuple[str, int]] | None = None,
) -> CostReportDto:
    """`units`: per resource, the unit its amounts are shown in and its size in base
    quantities ("GiB-hour", 2**30); none: base quantity-hours."""
    with localcontext(EXACT):
        return _rounded(
            exact, project, currency, start_us, end_us, step_us, mode, group_by, units or {}
        )


def _rounded(
    exact: ExactCosts,
    project: str,
    currency: str,
    start_us: int,
    end_us: int,
    step_us: int | None,
    mode: IdleMode,
    group_by: tuple[str, ...],
    units: Mapping[str, tuple[str, int]],
) -> CostReportDto:
    rows = sorted(exact.rows, key=lambda r: (-r.total, sorted(r.tags.items())))
    idle_exact = exact.idle_total
    total = to_cents(exact.total)
    cents = apportion([*(r.total for r in rows), idle_exact], total)
    n = len(exact.buckets)
    shown = [_row(row, c, n, units) for row, c in zip(rows, cents, strict=False)]
    idle_values = [float(sum((v[b] for v in exact.idle.values()), ZERO)) for b in range(n)]
    idle_parts = apportion([sum(v, ZERO) for v in exact.idle.values()], cents[-1])
    idle = CostRowDto(
        tags={},
        cost=cents[-1],
        values=idle_values,
        resources=[
            ResourceCostDto(resource, part, part, units.get(resource, ("", 1))[0], 0, 0, 0, None)
            for resource, part in zip(exact.idle, idle_parts, strict=True)
        ],
        efficiency=None,
    )
    return CostReportDto(
        project=project,
        currency=currency,
        start_us=start_us,
        end_us=end_us,
        step_us=step_us,
        idle_mode=mode,
        group_by=group_by,
        timestamps_us=[b.start_us for b in exact.buckets],
        total=total,
        rows=shown,
        idle=idle,
        exact_total=exact.total,
    )


def _row(row: ExactRow, cents: Decimal, n: int, units: Mapping[str, tuple[str, int]]) -> CostRowDto:
    parts = list(row.resources.items())
    shares = apportion([p.total for _, p in parts], cents)
    idle_shares = [to_cents(sum(p.idle, ZERO)) for _, p in parts]
    resources = [
        ResourceCostDto(
            resource=resource,
            cost=share,
            idle=min(idle_share, share),
            unit=units.get(resource, ("", 1))[0],
            requested=float(p.requested / units.get(resource, ("", 1))[1]),
            used=float(p.used / units.get(resource, ("", 1))[1]),
            allocated=float(p.allocated / units.get(resource, ("", 1))[1]),
            efficiency=float(p.used / p.requested) if p.requested > 0 else None,
        )
        for (resource, p), share, idle_share in zip(parts, shares, idle_shares, strict=True)
    ]
    request_cost = sum((p.request_cost for _, p in parts), ZERO)
    usage_cost = sum((p.usage_cost for _, p in parts), ZERO)
    return CostRowDto(
        tags=row.tags,
        cost=cents,
        values=[float(sum((p.cost[b] for _, p in parts), ZERO)) for b in range(n)],
        resources=resources,
        efficiency=float(usage_cost / request_cost) if request_cost > 0 else None,
    )
