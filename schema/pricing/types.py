"""A project's pricing and a cost report as the GraphQL schema shows them. Money is the
`Decimal` scalar (exact, as text such as "0.75")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from domain.cost import model
from domain.cost.compute import IdleMode
from domain.cost.read_models import CostReportDto, CostRowDto
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["CostReport", "CostRole", "CostRow", "IdleCost", "Price", "Pricing", "ResourceCost"]

CostRole = strawberry.enum(
    model.CostRole,
    name="CostRole",
    description="What a metric measures of a resource: a REQUEST (an allocation), the "
    "USAGE, or a node's CAPACITY.",
)
IdleCost = strawberry.enum(
    IdleMode,
    name="IdleCost",
    description="SEPARATE: idle capacity is its own row; SHARED: each node's idle goes to "
    "the owners on it by weight of allocation.",
)


@strawberry.type(description="A price of a resource, valid from `validFrom` until its next.")
class Price:
    resource: str
    unit: str = strawberry.field(description='Such as "core-hour", "GiB-month", "GB".')
    price: Decimal
    currency: str
    valid_from: datetime


@strawberry.type(description="The metric that measures `role` of `resource`.")
class CostMetric:
    resource: str
    role: CostRole  # type: ignore[valid-type]
    metric: str


@strawberry.type(description="A project's price table and metric mapping.")
class Pricing:
    project: str
    currency: str = strawberry.field(description='Every price\'s currency; "" when none.')
    prices: list[Price]
    metrics: list[CostMetric]
    owner_tag: str
    node_tag: str
    version: int = strawberry.field(description="0: never configured.")
    updated_by: str
    updated_at: datetime | None

    @classmethod
    def of(cls, p: model.Pricing) -> Pricing:
        return cls(
            project=p.project,
            currency=p.currency,
            prices=[
                Price(
                    resource=x.resource,
                    unit=x.unit,
                    price=x.price,
                    currency=x.currency,
                    valid_from=from_us(x.valid_from_us),
                )
                for x in p.prices
            ],
            metrics=[
                CostMetric(resource=m.resource, role=m.role, metric=m.metric) for m in p.metrics
            ],
            owner_tag=p.owner_tag,
            node_tag=p.node_tag,
            version=p.version,
            updated_by=p.updated_by,
            updated_at=from_us(p.updated_us) if p.updated_us else None,
        )


@strawberry.type(
    description="One resource of a row; its amounts in `unit`: quantity-hours of its latest "
    "price when held (core-hour, GiB-hour), its quantity when counted (GB, thousand)."
)
class ResourceCost:
    resource: str
    cost: Decimal
    idle: Decimal = strawberry.field(description="The shared idle included in `cost`.")
    unit: str
    requested: float
    used: float
    allocated: float = strawberry.field(description="max(request, usage), bucket by bucket.")
    efficiency: float | None = strawberry.field(description="used / requested.")


@strawberry.type(description="What one group of owners cost, or the idle part (no tags).")
class CostRow:
    tags: Tags
    cost: Decimal = strawberry.field(
        description="In cents: the rows and idle add up to the report's total exactly."
    )
    values: FloatArray = strawberry.field(description="The cost of each bucket, for charts.")
    resources: list[ResourceCost]
    efficiency: float | None = strawberry.field(
        description="Usage cost / request cost over every resource (OpenCost's)."
    )

    @classmethod
    def of(cls, row: CostRowDto) -> CostRow:
        return cls(
            tags=Tags(row.tags),
            cost=row.cost,
            values=FloatArray(row.values),
            resources=[
                ResourceCost(
                    resource=r.resource,
                    cost=r.cost,
                    idle=r.idle,
                    unit=r.unit,
                    requested=r.requested,
                    used=r.used,
                    allocated=r.allocated,
                    efficiency=r.efficiency,
                )
                for r in row.resources
            ],
            efficiency=row.efficiency,
        )


@strawberry.type(description="What a range cost, by owner group, with idle capacity.")
class CostReport:
    project: str
    currency: str
    from_: datetime = strawberry.field(name="from")
    to: datetime
    idle_mode: IdleCost  # type: ignore[valid-type]
    group_by: list[str]
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    total: Decimal
    rows: list[CostRow] = strawberry.field(description="Most expensive first.")
    idle: CostRow = strawberry.field(
        description="Capacity nobody was allocated (SHARED: only "
        "what sat on nodes with no allocation)."
    )

    @classmethod
    def of(cls, r: CostReportDto) -> CostReport:
        return cls(
            project=r.project,
            currency=r.currency,
            from_=from_us(r.start_us),
            to=from_us(r.end_us),
            idle_mode=r.idle_mode,
            group_by=list(r.group_by),
            timestamps=FloatArray([t // 1000 for t in r.timestamps_us]),
            total=r.total,
            rows=[CostRow.of(row) for row in r.rows],
            idle=CostRow.of(r.idle),
        )
