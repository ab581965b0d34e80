"""Cost by OpenCost's rules, in the domain alone: the hand example to the cent, a price
change inside a bucket, and rows + idle = total exactly over seeded random cases."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from domain.cost.cents import CENT, apportion
from domain.cost.compute import Bucket, IdleMode, Reading, compute
from domain.cost.model import CostMetric, CostRole, Price, Pricing
from domain.cost.report import rounded

HOUR_US = 3_600_000_000
GIB = float(2**30)
T0 = 1_000 * HOUR_US

PRICES = (
    Price("cpu_cores", "core-hour", Decimal("0.031"), "USD"),
    Price("memory_bytes", "GiB-hour", Decimal("0.004"), "USD"),
)
MAPPING = tuple(
    CostMetric(resource, role, f"{short}.{role.value}")
    for resource, short in (("cpu_cores", "cpu"), ("memory_bytes", "mem"))
    for role in CostRole
)
PRICING = Pricing("demo", PRICES, MAPPING)

# (owner, node) -> (cpu request, cpu usage, memory request GiB, memory usage GiB)
WORKLOADS = {
    ("api", "n1"): (2.0, 2.5, 4.0, 3.0),  # over its CPU request
    ("batch", "n1"): (1.0, 0.25, 6.0, 2.0),  # under its requests
    ("web", "n2"): (1.0, 1.0, 2.0, 2.0),
}
NODES = {"n1": (4.0, 16.0), "n2": (2.0, 8.0)}  # cores, GiB


def hourly(hours: int) -> list[Bucket]:
    return [
        Bucket(T0 + h * HOUR_US, T0 + h * HOUR_US, T0 + (h + 1) * HOUR_US) for h in range(hours)
    ]


def example_readings(hours: int) -> list[Reading]:
    def lines(pick: int, scale: float) -> list[tuple[dict[str, str], list[float | None]]]:
        return [
            ({"owner": owner, "node": node}, [values[pick] * scale] * hours)
            for (owner, node), values in WORKLOADS.items()
        ]

    def nodes(pick: int, scale: float) -> list[tuple[dict[str, str], list[float | None]]]:
        return [({"node": n}, [v[pick] * scale] * hours) for n, v in NODES.items()]

    return [
        Reading("cpu_cores", CostRole.REQUEST, lines(0, 1)),
        Reading("cpu_cores", CostRole.USAGE, lines(1, 1)),
        Reading("cpu_cores", CostRole.CAPACITY, nodes(0, 1)),
        Reading("memory_bytes", CostRole.REQUEST, lines(2, GIB)),
        Reading("memory_bytes", CostRole.USAGE, lines(3, GIB)),
        Reading("memory_bytes", CostRole.CAPACITY, nodes(1, GIB)),
    ]


def report(mode: IdleMode, hours: int = 8, pricing: Pricing = PRICING):  # type: ignore[no-untyped-def]
    buckets = hourly(hours)
    exact = compute(pricing, buckets, example_readings(hours), ("owner",), mode)
    return rounded(
        exact,
        project="demo",
        currency="USD",
        start_us=T0,
        end_us=T0 + hours * HOUR_US,
        step_us=HOUR_US,
        mode=mode,
        group_by=("owner",),
    )


def test_the_hand_example_with_idle_apart() -> None:
    """Two nodes, three workloads, 8 hours at 0.031 USD a core-hour and 0.004 USD a
    GiB-hour: a core held 8 hours costs 0.248, a GiB 0.032.

    api   cpu max(2, 2.5) = 2.5 x 0.248 = 0.620   mem max(4, 3) = 4 x 0.032 = 0.128   0.748
    batch cpu max(1, 0.25) = 1 x 0.248 = 0.248   mem max(6, 2) = 6 x 0.032 = 0.192   0.440
    web   cpu max(1, 1)   = 1 x 0.248 = 0.248   mem max(2, 2) = 2 x 0.032 = 0.064   0.312
    idle  cpu n1 4 - 3.5 = 0.5 -> 0.124, n2 2 - 1 = 1 -> 0.248;
          mem n1 16 - 10 = 6 -> 0.192, n2 8 - 2 = 6 -> 0.192                        0.756
    total 2.256 (= 6 cores x 0.248 + 24 GiB x 0.032) -> 2.26. Cents by largest remainder:
    floors 0.74 0.44 0.31 0.75 (2.24); the two missing cents go to api (0.008 left) and
    idle (0.006): 0.75 + 0.44 + 0.31 + 0.76 = 2.26.
    Efficiency (usage cost / request cost): api (0.620 + 0.096) / (0.496 + 0.128) = 1.1474,
    batch (0.062 + 0.064) / (0.248 + 0.192) = 0.2864, web 1.
    """
    answer = report(IdleMode.SEPARATE)
    assert answer.exact_total == Decimal("2.256")
    assert answer.total == Decimal("2.26")
    assert [(r.tags["owner"], str(r.cost)) for r in answer.rows] == [
        ("api", "0.75"),
        ("batch", "0.44"),
        ("web", "0.31"),
    ]
    assert str(answer.idle.cost) == "0.76"
    api, batch, web = answer.rows
    assert api.efficiency == pytest.approx(0.716 / 0.624)
    assert batch.efficiency == pytest.approx(0.126 / 0.44)
    assert web.efficiency == pytest.approx(1.0)
    cpu = {r.resource: r for r in api.resources}["cpu_cores"]
    assert (cpu.requested, cpu.used, cpu.allocated, cpu.efficiency) == (16.0, 20.0, 20.0, 1.25)
    assert str(cpu.cost) == "0.62"
    assert sum(api.values) == pytest.approx(0.748)


def test_the_hand_example_with_idle_shared() -> None:
    """Idle shared by allocation on its node: n1's CPU idle 0.124 goes 2.5 : 1 to api and
    batch (0.0885714..., 0.0354285...), its memory idle 0.192 goes 4 : 6 (0.0768, 0.1152);
    n2's idle (0.248 + 0.192) all to web.
    api 0.748 + 0.0885714 + 0.0768 = 0.9133714 ; batch 0.44 + 0.0354286 + 0.1152 = 0.5906286 ;
    web 0.312 + 0.44 = 0.752. Total 2.256 -> 2.26; floors 0.91 0.59 0.75 (2.25): the cent
    left goes to api (0.0034 left). Rounding each row alone would give 2.25.
    """
    answer = report(IdleMode.SHARED)
    assert answer.total == Decimal("2.26")
    assert [(r.tags["owner"], str(r.cost)) for r in answer.rows] == [
        ("api", "0.92"),
        ("web", "0.75"),
        ("batch", "0.59"),
    ]
    assert answer.idle.cost == 0
    web = answer.rows[1]
    assert {r.resource: str(r.idle) for r in web.resources} == {
        "cpu_cores": "0.25",
        "memory_bytes": "0.19",
    }


def test_a_price_change_inside_a_bucket_splits_it() -> None:
    """CPU at 0.031 until 2.5 hours in, then 0.05; one bucket of 4 hours, memory free.
    api: 2.5 cores x (2.5 h x 0.031 + 1.5 h x 0.05) = 2.5 x 0.1525 = 0.38125."""
    pricing = Pricing(
        "demo",
        (
            Price("cpu_cores", "core-hour", Decimal("0.031"), "USD"),
            Price("cpu_cores", "core-hour", Decimal("0.05"), "USD", T0 + 5 * HOUR_US // 2),
            Price("memory_bytes", "GiB-hour", Decimal(0), "USD"),
        ),
        MAPPING,
    )
    bucket = [Bucket(T0, T0, T0 + 4 * HOUR_US)]
    readings = [
        Reading(r.resource, r.role, [(tags, values[:1]) for tags, values in r.series])
        for r in example_readings(1)
    ]
    exact = compute(pricing, bucket, readings, ("owner",), IdleMode.SEPARATE)
    api = next(r for r in exact.rows if r.tags["owner"] == "api")
    assert api.total == Decimal("0.38125")


def test_before_the_first_price_a_resource_is_free() -> None:
    pricing = Pricing(
        "demo",
        (Price("cpu_cores", "core-hour", Decimal("1"), "USD", T0 + 2 * HOUR_US),),
        tuple(m for m in MAPPING if m.resource == "cpu_cores"),
    )
    exact = compute(pricing, hourly(4), example_readings(4), ("owner",), IdleMode.SEPARATE)
    assert exact.total == Decimal(6 * 2)  # 6 cores of capacity, 2 priced hours


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("mode", list(IdleMode))
def test_rows_and_idle_add_up_to_the_total_exactly(seed: int, mode: IdleMode) -> None:
    rng = random.Random(seed)
    hours = rng.randint(1, 6)
    prices = [
        Price("cpu_cores", "core-hour", Decimal(rng.randint(0, 99_999)) / 10_000, "EUR"),
        Price("memory_bytes", "GiB-month", Decimal(rng.randint(1, 9_999)) / 1_000, "EUR"),
    ]
    if rng.random() < 0.5:  # a price change at a random microsecond
        at = T0 + rng.randint(0, hours * HOUR_US)
        prices.append(Price("cpu_cores", "core-hour", Decimal(rng.randint(0, 999)) / 7, "EUR", at))
    pricing = Pricing("p", tuple(prices), MAPPING)

    def value() -> float | None:
        return None if rng.random() < 0.1 else round(rng.uniform(0, 8), rng.randint(0, 9))

    owners = [f"o{i}" for i in range(rng.randint(1, 7))]
    nodes = [f"n{i}" for i in range(rng.randint(1, 3))]
    placed = [(rng.choice(owners), rng.choice(nodes)) for _ in range(rng.randint(1, 12))]
    readings = []
    for resource in ("cpu_cores", "memory_bytes"):
        for role in (CostRole.REQUEST, CostRole.USAGE):
            lines = [({"owner": o, "node": n}, [value() for _ in range(hours)]) for o, n in placed]
            readings.append(Reading(resource, role, lines))
        caps = [({"node": n}, [value() for _ in range(hours)]) for n in nodes]
        readings.append(Reading(resource, CostRole.CAPACITY, caps))
    exact = compute(pricing, hourly(hours), readings, ("owner",), mode)
    answer = rounded(
        exact,
        project="p",
        currency="EUR",
        start_us=T0,
        end_us=T0 + hours * HOUR_US,
        step_us=HOUR_US,
        mode=mode,
        group_by=("owner",),
    )
    assert sum((r.cost for r in answer.rows), answer.idle.cost) == answer.total
    assert abs(answer.total - exact.total) <= CENT / 2
    exact_rows = {r.tags["owner"]: r.total for r in exact.rows}
    for row in answer.rows:
        assert abs(row.cost - exact_rows[row.tags["owner"]]) < CENT
        assert sum((r.cost for r in row.resources), Decimal(0)) == row.cost
    other = IdleMode.SHARED if mode is IdleMode.SEPARATE else IdleMode.SEPARATE
    again = compute(pricing, hourly(hours), readings, ("owner",), other)
    assert abs(again.total - exact.total) < Decimal(
        "1e-40"
    )  # sharing idle moves money, never makes or loses it


def test_apportion_gives_the_missing_cents_to_the_largest_remainders() -> None:
    parts = [Decimal("0.9133714"), Decimal("0.5906286"), Decimal("0.752")]
    assert apportion(parts, Decimal("2.26")) == [Decimal("0.92"), Decimal("0.59"), Decimal("0.75")]
    # A target below the floors takes cents back from the smallest remainders (ties: last).
    assert apportion([Decimal("1"), Decimal("2.004")], Decimal("2.99")) == [
        Decimal("0.99"),
        Decimal("2.00"),
    ]
