"""Cost pricing on every store: saved by compare-and-set on its version, read back equal
(prices as exact decimals), listed by project, and a stale version writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from domain.cost.model import CostMetric, CostRole, Price, Pricing
from domain.cost.ports import PricingStore
from tests.contract.conftest import StoreDatabase


def pricing_store(db: StoreDatabase) -> PricingStore:
    return cast(PricingStore, db.pricing)  # type: ignore[attr-defined]


FIRST = Pricing(
    "alpha",
    (
        Price("cpu_cores", "core-hour", Decimal("0.031"), "USD"),
        Price("cpu_cores", "core-hour", Decimal("0.0475"), "USD", 1_700_000_000_000_000),
        Price("vigil.usage.points_ingested", "million", Decimal("0.25"), "USD"),
    ),
    (
        CostMetric("cpu_cores", CostRole.REQUEST, "kube.cpu.requests"),
        CostMetric("cpu_cores", CostRole.USAGE, "kube.cpu.usage"),
        CostMetric("vigil.usage.points_ingested", CostRole.USAGE, "vigil.usage.points_ingested"),
    ),
    owner_tag="team",
    node_tag="host",
    version=1,
    updated_by="ann",
    updated_us=5,
)


async def test_a_pricing_is_saved_by_compare_and_set_on_its_version(
    store_db: StoreDatabase,
) -> None:
    store = pricing_store(store_db)
    assert await store.get_pricing("alpha") is None
    assert await store.save_pricing(FIRST, expected_version=0)
    assert not await store.save_pricing(FIRST, expected_version=0)  # one exists already

    second = Pricing("alpha", FIRST.prices[:1], FIRST.metrics[:1], version=2, updated_by="bo")
    assert not await store.save_pricing(second, expected_version=2)  # stale
    assert await store.get_pricing("alpha") == FIRST
    assert await store.save_pricing(second, expected_version=1)

    found = await store.get_pricing("alpha")
    assert found == second
    assert found is not None and str(found.prices[0].price) == "0.031"
    other = Pricing("beta", FIRST.prices, version=1)
    assert await store.save_pricing(other, expected_version=0)
    assert [p.project for p in await store.pricings()] == ["alpha", "beta"]
    assert (await store.pricings())[0] == second


async def test_prices_keep_every_digit(store_db: StoreDatabase) -> None:
    exact = Decimal("0.000000123456789012345678901234")
    pricing = Pricing("p", (Price("network_bytes", "byte", exact, "EUR"),), version=1)
    store = pricing_store(store_db)
    assert await store.save_pricing(pricing, expected_version=0)
    found = await store.get_pricing("p")
    assert found is not None and found.prices[0].price == exact
