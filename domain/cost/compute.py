"""The exact cost of a range, by OpenCost's rules, from the series of the mapped metrics.

Per bucket, resource and allocation (the series of one owner group on one node):
allocation = max(request, usage) (an owner pays for what it reserved, or for what it took
beyond that); cost = allocation x price x time held (a counted resource: amount x price).
Per node and resource, idle = max(0, capacity - sum of allocations) x price x time: what
nobody reserved. SEPARATE keeps idle as its own part; SHARED hands each node's idle to the
allocations on that node in proportion to their allocation (a node with no allocation
keeps its idle). A bucket over which a price changes is split at `valid_from`.

Everything is Decimal (a context of 60 digits; values read from float by their shortest
repr, so 0.25 stays 0.25); nothing is rounded here (cents.py rounds at the end). Idle
shared out gives its last allocation the remainder, so shares add up to the idle exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from typing import TypeVar

from domain.cost.model import CostRole, Pricing

__all__ = [
    "EXACT",
    "Bucket",
    "ExactCosts",
    "ExactRow",
    "IdleMode",
    "Reading",
    "ResourceCosts",
    "compute",
]

ZERO = Decimal(0)
EXACT = Context(prec=60)  # every sum and product of a report (money has ~30 digits)
K = TypeVar("K", bound=Hashable)
SECONDS_PER_HOUR = Decimal(3600)


class IdleMode(StrEnum):
    SEPARATE = "separate"
    SHARED = "shared"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket of the grid: it starts at `start_us`; the range covers [lo_us, hi_us) of it."""

    start_us: int
    lo_us: int
    hi_us: int


@dataclass(frozen=True, slots=True)
class Reading:
    """One mapped metric over the grid: each series' tags and one value per bucket (the
    bucket's average for a held resource, its sum for a counted one)."""

    resource: str
    role: CostRole
    series: Sequence[tuple[Mapping[str, str], Sequence[float | None]]]


@dataclass(slots=True)
class ResourceCosts:
    """One row's part of one resource, exact. Held amounts are quantity-hours (core-hours,
    byte-hours); counted ones quantities."""

    cost: list[Decimal]  # per bucket, shared idle included
    idle: list[Decimal]  # per bucket, the part of `cost` that is shared idle
    requested: Decimal = ZERO
    used: Decimal = ZERO
    allocated: Decimal = ZERO
    request_cost: Decimal = ZERO
    usage_cost: Decimal = ZERO

    @classmethod
    def empty(cls, n: int) -> ResourceCosts:
        return cls([ZERO] * n, [ZERO] * n)

    @property
    def total(self) -> Decimal:
        with localcontext(EXACT):
            return sum(self.cost, ZERO)


@dataclass(slots=True)
class ExactRow:
    tags: dict[str, str]
    resources: dict[str, ResourceCosts] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        with localcontext(EXACT):
            return sum((r.total for r in self.resources.values()), ZERO)


@dataclass(slots=True)
class ExactCosts:
    buckets: list[Bucket]
    rows: list[ExactRow]
    idle: dict[str, list[Decimal]]  # resource -> idle not shared, per bucket

    @property
    def idle_total(self) -> Decimal:
        with localcontext(EXACT):
            return sum((sum(v, ZERO) for v in self.idle.values()), ZERO)

    @property
    def total(self) -> Decimal:
        with localcontext(EXACT):
            return sum((r.total for r in self.rows), ZERO) + self.idle_total


def compute(
    pricing: Pricing,
    buckets: Sequence[Bucket],
    readings: Sequence[Reading],
    group_by: Sequence[str],
    mode: IdleMode,
) -> ExactCosts:
    with localcontext(EXACT):
        rows: dict[tuple[str, ...], ExactRow] = {}
        idle: dict[str, list[Decimal]] = {}
        for resource in pricing.resources:
            mine = {r.role: r for r in readings if r.resource == resource}
            _resource(pricing, resource, list(buckets), mine, tuple(group_by), mode, rows, idle)
        return ExactCosts(list(buckets), list(rows.values()), idle)


def factors(pricing: Pricing, resource: str, buckets: Sequence[Bucket]) -> list[Decimal]:
    """What one base quantity held (or counted) costs in each bucket, prices split."""
    timeline = pricing.timeline(resource)
    out = []
    for b in buckets:
        span = b.hi_us - b.lo_us
        f = ZERO
        for i, price in enumerate(timeline):
            end = timeline[i + 1].valid_from_us if i + 1 < len(timeline) else b.hi_us
            lo, hi = max(b.lo_us, price.valid_from_us), min(b.hi_us, end)
            if hi <= lo or span <= 0:
                continue
            unit = price.parsed_unit
            if unit.period_seconds is None:  # counted: the bucket's amount, split by time
                f += price.price * (hi - lo) / (unit.size * span)
            else:
                f += price.price * (hi - lo) / (unit.size * unit.period_seconds * 1_000_000)
        out.append(f)
    return out


def _number(value: float | None) -> Decimal:
    return ZERO if value is None else Decimal(repr(value))


def _sums(
    reading: Reading | None, key_of: Callable[[Mapping[str, str]], K], n: int
) -> dict[K, list[Decimal]]:
    """Per key, the sum of the series' values in each bucket (a missing value is zero)."""
    out: dict[K, list[Decimal]] = {}
    if reading is None:
        return out
    for tags, values in reading.series:
        key = key_of(tags)
        acc = out.setdefault(key, [ZERO] * n)
        for b, v in enumerate(values[:n]):
            acc[b] += _number(v)
    return out


def _resource(
    pricing: Pricing,
    resource: str,
    buckets: list[Bucket],
    readings: Mapping[CostRole, Reading],
    group_by: tuple[str, ...],
    mode: IdleMode,
    rows: dict[tuple[str, ...], ExactRow],
    idle: dict[str, list[Decimal]],
) -> None:
    n = len(buckets)
    f = factors(pricing, resource, buckets)
    held = pricing.held(resource)
    hours = [
        Decimal(b.hi_us - b.lo_us) / 1_000_000 / SECONDS_PER_HOUR if held else Decimal(1)
        for b in buckets
    ]
    node_tag = pricing.node_tag

    def alloc_key(tags: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
        return tuple(tags.get(t, "") for t in group_by), tags.get(node_tag, "")

    requests = _sums(readings.get(CostRole.REQUEST), alloc_key, n)
    usages = _sums(readings.get(CostRole.USAGE), alloc_key, n)
    capacity = _sums(readings.get(CostRole.CAPACITY), lambda t: t.get(node_tag, ""), n)
    on_node: dict[str, list[tuple[ResourceCosts, list[Decimal]]]] = {}
    for key in sorted({*requests, *usages}):
        group, node = key
        req = requests.get(key, [ZERO] * n)
        use = usages.get(key, [ZERO] * n)
        row = rows.setdefault(group, ExactRow(dict(zip(group_by, group, strict=True))))
        part = row.resources.setdefault(resource, ResourceCosts.empty(n))
        allocs = [max(r, u) for r, u in zip(req, use, strict=True)]
        for b in range(n):
            part.cost[b] += allocs[b] * f[b]
            part.requested += req[b] * hours[b]
            part.used += use[b] * hours[b]
            part.allocated += allocs[b] * hours[b]
            part.request_cost += req[b] * f[b]
            part.usage_cost += use[b] * f[b]
        on_node.setdefault(node, []).append((part, allocs))
    unshared = idle.setdefault(resource, [ZERO] * n) if capacity else None
    for node, caps in capacity.items():
        sharers = on_node.get(node, [])
        for b in range(n):
            allocated = sum((a[b] for _, a in sharers), ZERO)
            spare = max(ZERO, caps[b] - allocated) * f[b]
            if mode is IdleMode.SHARED and allocated > 0 and spare > 0:
                _share(spare, [(p, a[b]) for p, a in sharers], allocated, b)
            elif unshared is not None:
                unshared[b] += spare


def _share(
    spare: Decimal, sharers: list[tuple[ResourceCosts, Decimal]], allocated: Decimal, b: int
) -> None:
    """Hand `spare` to the sharers by weight; the last takes what is left, exactly."""
    given = ZERO
    weighted = [(p, w) for p, w in sharers if w > 0]
    for i, (part, weight) in enumerate(weighted):
        share = spare - given if i == len(weighted) - 1 else spare * weight / allocated
        part.cost[b] += share
        part.idle[b] += share
        given += share
