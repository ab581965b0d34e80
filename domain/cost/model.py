"""A project's pricing: a price table over time and the metrics that measure each resource.

Resources are `cpu_cores`, `memory_bytes`, `disk_bytes`, `network_bytes`, and Vigil's own
usage units, named by their metric (`vigil.usage.points_ingested`, ...). A price is given
in a unit: a quantity, optionally per period. With a period ("core-hour", "GiB-month") the
resource is *held*: its metric is a level, read as the bucket's average and multiplied by
the time held. Without one ("GB", "thousand") it is *counted*: its metric's points are
amounts, summed in the bucket. A month is 730 hours (a 365-day year / 12, as clouds bill).

A price is valid from `valid_from` until the next price of the same resource; before the
first one the resource is free. Every price of a table is in one currency (sums across
currencies mean nothing).

The mapping says which metric is a resource's request (an allocation), its usage and its
capacity (a node's size), and which tags name the owner and the node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from domain.cost.currencies import CURRENCIES
from domain.cost.units import Unit, parse_unit
from domain.errors import BadUserInput

__all__ = [
    "HELD_RESOURCES",
    "MAX_MAPPINGS",
    "MAX_PRICES",
    "RESOURCES",
    "CostMetric",
    "CostRole",
    "Price",
    "Pricing",
    "Unit",
    "parse_unit",
]

MAX_PRICES = 500
MAX_MAPPINGS = 100
MAX_NAME = 200
MAX_PRICE = Decimal("1e12")

HELD_RESOURCES = ("cpu_cores", "memory_bytes", "disk_bytes")
RESOURCES = (*HELD_RESOURCES, "network_bytes")
USAGE_PREFIX = "vigil.usage."
_USAGE_NAME = re.compile(r"vigil\.usage\.[A-Za-z0-9_.\-]+")
_TAG = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


class CostRole(StrEnum):
    REQUEST = "request"  # what an owner reserved (its allocation unless it uses more)
    USAGE = "usage"  # what it used
    CAPACITY = "capacity"  # what a node has: capacity - allocations is idle


def _dimensions(resource: str) -> tuple[str, ...]:
    if resource == "cpu_cores":
        return ("cores",)
    if resource in RESOURCES:
        return ("bytes",)
    return ("units", "bytes")  # vigil.usage.*: counts, or bytes stored


def check_resource(resource: str) -> None:
    if resource not in RESOURCES and not _USAGE_NAME.fullmatch(resource):
        raise BadUserInput(
            f"no resource {resource!r}: {', '.join(RESOURCES)}, or one of Vigil's usage"
            f" metrics ({USAGE_PREFIX}*)"
        )


@dataclass(frozen=True, slots=True)
class Price:
    """`price` per `unit` of `resource`, from `valid_from_us` until the resource's next."""

    resource: str
    unit: str
    price: Decimal
    currency: str
    valid_from_us: int = 0

    @property
    def parsed_unit(self) -> Unit:
        return parse_unit(self.unit)

    def per_unit_us(self) -> Decimal:
        """Cost of one base quantity (a core, a byte, a unit) for one microsecond (held) or
        of one base quantity (counted)."""
        unit = self.parsed_unit
        if unit.period_seconds is None:
            return self.price / unit.size
        return self.price / (unit.size * unit.period_seconds * 1_000_000)

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "unit": self.unit,
            "price": str(self.price),
            "currency": self.currency,
            "valid_from_us": self.valid_from_us,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Price:
        return cls(
            str(d["resource"]),
            str(d["unit"]),
            Decimal(str(d["price"])),
            str(d["currency"]),
            int(d.get("valid_from_us", 0)),
        )


@dataclass(frozen=True, slots=True)
class CostMetric:
    """The project's metric `metric` measures `role` of `resource`."""

    resource: str
    role: CostRole
    metric: str

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "role": self.role.value, "metric": self.metric}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CostMetric:
        return cls(str(d["resource"]), CostRole(d["role"]), str(d["metric"]))


def parse_price(text: object) -> Decimal:
    """A price given as text or a number, as an exact Decimal; BadUserInput otherwise."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise BadUserInput(f"price {text!r} is not a number") from None
    if not value.is_finite():
        raise BadUserInput(f"price {text!r} is not a finite number")
    return value


@dataclass(frozen=True, slots=True)
class Pricing:
    """A project's price table and metric mapping; version 0 is none stored."""

    project: str
    prices: tuple[Price, ...] = ()
    metrics: tuple[CostMetric, ...] = ()
    owner_tag: str = "owner"
    node_tag: str = "node"
    version: int = 0
    updated_by: str = ""
    updated_us: int = 0

    @property
    def currency(self) -> str:
        return self.prices[0].currency if self.prices else ""

    @property
    def resources(self) -> list[str]:
        """The priced resources, in the order first given."""
        return list(dict.fromkeys(p.resource for p in self.prices))

    def held(self, resource: str) -> bool:
        return next(p for p in self.prices if p.resource == resource).parsed_unit.held

    def amount_units(self) -> dict[str, tuple[str, int]]:
        """Per resource, the unit its amounts are shown in and its size in base quantities:
        the quantity of its latest price, per hour when held ("GiB-hour", 2**30)."""
        units = {}
        for resource in self.resources:
            text = self.timeline(resource)[-1].unit
            quantity = text.partition("-")[0]
            unit = parse_unit(text)
            units[resource] = (f"{quantity}-hour" if unit.held else quantity, unit.size)
        return units

    def metric_of(self, resource: str, role: CostRole) -> str | None:
        return next(
            (m.metric for m in self.metrics if m.resource == resource and m.role is role), None
        )

    def timeline(self, resource: str) -> list[Price]:
        """The resource's prices by `valid_from`."""
        return sorted(
            (p for p in self.prices if p.resource == resource), key=lambda p: p.valid_from_us
        )

    def validate(self) -> None:
        """BadUserInput naming the first problem; see the module's docstring."""
        if not self.prices:
            raise BadUserInput("a price table needs at least one price")
        if len(self.prices) > MAX_PRICES or len(self.metrics) > MAX_MAPPINGS:
            raise BadUserInput(f"at most {MAX_PRICES} prices and {MAX_MAPPINGS} metrics")
        for tag, what in ((self.owner_tag, "ownerTag"), (self.node_tag, "nodeTag")):
            if not _TAG.fullmatch(tag) or len(tag) > MAX_NAME:
                raise BadUserInput(f"{what} {tag!r} is not a tag name")
        if self.owner_tag == self.node_tag:
            raise BadUserInput("ownerTag and nodeTag must differ")
        seen: dict[tuple[str, int], Price] = {}
        for price in self.prices:
            _check_price(price)
            key = (price.resource, price.valid_from_us)
            if key in seen:
                raise BadUserInput(
                    f"two prices of {price.resource!r} are valid from the same time: a"
                    " resource has one price at a time (give the later one a later validFrom)"
                )
            seen[key] = price
        currencies = sorted({p.currency for p in self.prices})
        if len(currencies) > 1:
            raise BadUserInput(f"a price table has one currency, not {', '.join(currencies)}")
        for resource in self.resources:
            if len({p.parsed_unit.held for p in self.timeline(resource)}) > 1:
                raise BadUserInput(
                    f"{resource!r} is priced both per period and per quantity: choose one"
                )
        self._check_metrics()

    def _check_metrics(self) -> None:
        roles: set[tuple[str, CostRole]] = set()
        priced = set(self.resources)
        for m in self.metrics:
            check_resource(m.resource)
            if m.resource not in priced:
                raise BadUserInput(f"{m.resource!r} is mapped to a metric but has no price")
            if (m.resource, m.role) in roles:
                raise BadUserInput(f"{m.resource!r} has two {m.role.value} metrics")
            roles.add((m.resource, m.role))
            if not m.metric.strip() or len(m.metric) > MAX_NAME:
                raise BadUserInput(f"metric names are 1 to {MAX_NAME} characters")
            if m.metric.startswith("vigil.cost."):
                raise BadUserInput("vigil.cost.* is what cost writes: it cannot be priced")
            if m.role is not CostRole.USAGE and not self.held(m.resource):
                raise BadUserInput(
                    f"{m.resource!r} is counted (priced per quantity): it has usage only,"
                    " no request or capacity"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "prices": [p.to_dict() for p in self.prices],
            "metrics": [m.to_dict() for m in self.metrics],
            "owner_tag": self.owner_tag,
            "node_tag": self.node_tag,
            "version": self.version,
            "updated_by": self.updated_by,
            "updated_us": self.updated_us,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Pricing:
        return cls(
            project=str(d["project"]),
            prices=tuple(Price.from_dict(p) for p in d.get("prices", ())),
            metrics=tuple(CostMetric.from_dict(m) for m in d.get("metrics", ())),
            owner_tag=str(d.get("owner_tag", "owner")),
            node_tag=str(d.get("node_tag", "node")),
            version=int(d.get("version", 0)),
            updated_by=str(d.get("updated_by", "")),
            updated_us=int(d.get("updated_us", 0)),
        )


def _check_price(price: Price) -> None:
    check_resource(price.resource)
    unit = parse_unit(price.unit)
    if unit.dimension not in _dimensions(price.resource):
        raise BadUserInput(
            f"{price.resource!r} is not measured in {unit.dimension} (unit {price.unit!r})"
        )
    if price.resource in HELD_RESOURCES and not unit.held:
        raise BadUserInput(
            f"{price.resource!r} is held over time: price it per period, such as"
            f" {'core-hour' if price.resource == 'cpu_cores' else 'GiB-hour'}"
        )
    if price.resource == "network_bytes" and unit.held:
        raise BadUserInput("network_bytes is counted: price it per quantity, such as GB")
    if price.currency not in CURRENCIES:
        raise BadUserInput(f"{price.currency!r} is not an ISO 4217 currency code (USD, EUR, ...)")
    if not price.price.is_finite() or price.price < 0:
        raise BadUserInput(f"the price of {price.resource!r} must be zero or more")
    if price.price > MAX_PRICE:
        raise BadUserInput(f"the price of {price.resource!r} is larger than {MAX_PRICE}")
    if not 0 <= price.valid_from_us < 2**62:
        raise BadUserInput("validFrom must be after 1970")
