"""The pricing model alone: units, the unit amounts are shown in, and what validation
refuses beyond the API tests (tests/api/test_cost_pricing.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.cost.model import CostMetric, CostRole, Price, Pricing, parse_unit
from domain.errors import BadUserInput


def test_units_name_a_quantity_and_optionally_a_period() -> None:
    assert parse_unit("core-hour").period_seconds == 3600
    assert parse_unit("GiB-month").size == 2**30
    assert parse_unit("GiB-month").period_seconds == 730 * 3600
    assert parse_unit("GB").period_seconds is None
    assert parse_unit("thousand").size == 1000
    for bad in ("cores-hour", "GiB-week", "hour", ""):
        with pytest.raises(BadUserInput):
            parse_unit(bad)


def test_amounts_are_shown_in_the_latest_prices_quantity() -> None:
    pricing = Pricing(
        "p",
        (
            Price("memory_bytes", "byte-hour", Decimal("1e-12"), "EUR"),
            Price("memory_bytes", "GiB-month", Decimal("3"), "EUR", 10),
            Price("network_bytes", "GB", Decimal("0.09"), "EUR"),
        ),
    )
    assert pricing.amount_units() == {
        "memory_bytes": ("GiB-hour", 2**30),
        "network_bytes": ("GB", 10**9),
    }


def test_a_resource_is_priced_per_period_or_per_quantity_not_both() -> None:
    pricing = Pricing(
        "p",
        (
            Price("vigil.usage.bytes_stored", "GiB-month", Decimal(1), "EUR"),
            Price("vigil.usage.bytes_stored", "GiB", Decimal(1), "EUR", 5),
        ),
    )
    with pytest.raises(BadUserInput, match="both per period and per quantity"):
        pricing.validate()


def test_counted_resources_have_usage_only() -> None:
    pricing = Pricing(
        "p",
        (Price("network_bytes", "GB", Decimal("0.09"), "USD"),),
        (CostMetric("network_bytes", CostRole.CAPACITY, "net.capacity"),),
    )
    with pytest.raises(BadUserInput, match="usage only"):
        pricing.validate()


def test_a_stored_pricing_reads_back_equal() -> None:
    pricing = Pricing(
        "p",
        (Price("cpu_cores", "core-hour", Decimal("0.0310"), "USD", 7),),
        (CostMetric("cpu_cores", CostRole.USAGE, "cpu"),),
        owner_tag="team",
        version=3,
    )
    pricing.validate()
    assert Pricing.from_dict(pricing.to_dict()) == pricing
    assert str(Pricing.from_dict(pricing.to_dict()).prices[0].price) == "0.0310"
