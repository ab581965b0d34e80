"""Cost reports through /graphql on both stores: the hand example (two nodes, three
workloads, one over its request and one under) reproduced to the cent from ingested
metrics, with idle apart and shared, by any tags, hour by hour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.storage.tiers import HOUR, MINUTE
from tests.api.cost_support import (
    ADMIN,
    CONFIGURE,
    HOUR_MS,
    POINTS,
    app_duckdb,
    example_start_ms,
    iso,
    load_example,
    report,
)
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, until


@pytest.fixture(params=[app_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def vigil(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database = await request.param(tmp_path)
    try:
        async with serve(make_settings(tmp_path), database=database) as running:
            yield running
    finally:
        if database is not None:
            await database.close()


def by_owner(answer: dict[str, Any]) -> dict[str, str]:
    return {row["tags"]["owner"]: row["cost"] for row in answer["rows"]}


async def test_the_hand_example_to_the_cent_with_idle_apart(vigil: RunningVigil) -> None:
    """tests/unit/cost/test_cost_compute.py works it out by hand: api 0.748, batch 0.44,
    web 0.312, idle 0.756, total 2.256 -> 2.26, cents 0.75 + 0.44 + 0.31 + 0.76."""
    start = await load_example(vigil)
    answer = await report(vigil, start, step="1h")
    assert (answer["currency"], answer["total"], answer["idleMode"]) == ("USD", "2.26", "SEPARATE")
    assert by_owner(answer) == {"api": "0.75", "batch": "0.44", "web": "0.31"}
    assert answer["idle"]["cost"] == "0.76"
    assert [r["tags"]["owner"] for r in answer["rows"]] == ["api", "batch", "web"]
    assert answer["timestamps"] == [start + h * HOUR_MS for h in range(8)]
    api, batch, _ = answer["rows"]
    assert api["values"] == pytest.approx([0.748 / 8] * 8)
    assert api["efficiency"] == pytest.approx(0.716 / 0.624)
    assert batch["efficiency"] == pytest.approx(0.126 / 0.44)
    resources = {r["resource"]: r for r in api["resources"]}
    memory = resources["memory_bytes"]
    assert (memory["unit"], memory["requested"], memory["used"]) == ("GiB-hour", 32.0, 24.0)
    cpu = resources["cpu_cores"]
    assert cpu["unit"] == "core-hour"
    assert (cpu["cost"], cpu["requested"], cpu["used"], cpu["allocated"]) == (
        "0.62",
        16.0,
        20.0,
        20.0,
    )
    assert cpu["efficiency"] == 1.25
    idle = {r["resource"]: r["cost"] for r in answer["idle"]["resources"]}
    assert idle == {"cpu_cores": "0.37", "memory_bytes": "0.39"}  # 0.372 and 0.384


async def test_the_hand_example_with_idle_shared(vigil: RunningVigil) -> None:
    """n1's idle goes to api and batch by allocation, n2's to web: 0.9133714, 0.5906286 and
    0.752 -> 0.92, 0.59, 0.75 (the cent rounding each alone would lose goes to api)."""
    start = await load_example(vigil)
    answer = await report(vigil, start, idle="SHARED")  # one bucket over the 8 hours
    assert answer["total"] == "2.26"
    assert by_owner(answer) == {"api": "0.92", "batch": "0.59", "web": "0.75"}
    assert answer["idle"]["cost"] == "0.00"
    assert len(answer["timestamps"]) == 1
    costs = [row["cost"] for row in answer["rows"]] + [answer["idle"]["cost"]]
    assert sum(int(c.replace(".", "")) for c in costs) == 226


async def test_any_tags_group_the_rows(vigil: RunningVigil) -> None:
    """By team (api and web are shop: 0.748 + 0.312 = 1.06; batch is data: 0.44), and by
    team and node."""
    start = await load_example(vigil)
    answer = await report(vigil, start, step="4h", groupBy=["team"])
    assert {r["tags"]["team"]: r["cost"] for r in answer["rows"]} == {
        "shop": "1.06",
        "data": "0.44",
    }
    assert answer["total"] == "2.26" and answer["idle"]["cost"] == "0.76"
    two = await report(vigil, start, groupBy=["team", "node"])
    assert {(r["tags"]["team"], r["tags"]["node"]): r["cost"] for r in two["rows"]} == {
        ("shop", "n1"): "0.75",
        ("data", "n1"): "0.44",
        ("shop", "n2"): "0.31",
    }


async def test_counted_resources_sum_their_points(vigil: RunningVigil) -> None:
    """Vigil's own usage and network, priced per quantity: their points are amounts,
    summed. Points ingested, 0.40 USD a thousand: team a sent 1,500 a minute for 10
    minutes (15,000 -> 6.00), team b 250 (2,500 -> 1.00); network 0.09 USD a GB: a moved
    2.5 GB (0.225), b 0.1 GB (0.009). Exact: a 6.225, b 1.009, total 7.234 -> 7.23. Floors
    6.22 + 1.00 = 7.22; the missing cent goes to b (0.009 lost against a's 0.005)."""
    start = example_start_ms()
    points = [
        {"name": name, "value": value, "tags": {"team": team}, "timestamp": start + m * 60_000}
        for m in range(10)
        for team, ingested, moved in (("a", 1500.0, 2.5e8), ("b", 250.0, 1e7))
        for name, value in (("vigil.usage.points_ingested", ingested), ("net.bytes", moved))
    ]
    await vigil.ok(POINTS, {"p": "demo", "points": points}, auth=ADMIN)
    prices = [
        {
            "resource": "vigil.usage.points_ingested",
            "unit": "thousand",
            "price": "0.40",
            "currency": "USD",
        },
        {"resource": "network_bytes", "unit": "GB", "price": "0.09", "currency": "USD"},
    ]
    mapping = {
        "ownerTag": "team",
        "metrics": [
            {
                "resource": "vigil.usage.points_ingested",
                "role": "USAGE",
                "metric": "vigil.usage.points_ingested",
            },
            {"resource": "network_bytes", "role": "USAGE", "metric": "net.bytes"},
        ],
    }
    await vigil.ok(CONFIGURE, {"p": "demo", "prices": prices, "mapping": mapping}, auth=ADMIN)
    answer = await report(vigil, start, step="1h")
    assert answer["total"] == "7.23"
    assert {r["tags"]["team"]: r["cost"] for r in answer["rows"]} == {"a": "6.22", "b": "1.01"}
    assert answer["idle"]["cost"] == "0.00"
    a = {r["resource"]: r for r in answer["rows"][0]["resources"]}
    points_ingested = a["vigil.usage.points_ingested"]
    assert (points_ingested["unit"], points_ingested["used"]) == ("thousand", 15.0)
    assert (a["network_bytes"]["unit"], a["network_bytes"]["used"]) == ("GB", 2.5)


async def test_rollup_tiers_serve_the_report_with_the_same_cents(tmp_path: Path) -> None:
    """With the rollup runner on, the report's reads (the chart query with the report's
    step) come from the 1h tier, and the answer is the raw one's to the cent."""
    settings = make_settings(tmp_path, rollup_seconds=0.2, rollup_lag_seconds=60)
    async with serve(settings) as vigil:
        start = await load_example(vigil)
        rollups = vigil.app.state.vigil.stores.rollups
        wanted = (start + 8 * HOUR_MS) * 1000

        async def caught_up() -> bool:
            marks = await rollups.watermarks()
            dirty = await rollups.dirty_count(MINUTE) + await rollups.dirty_count(HOUR)
            return bool(marks.get("1h", 0) >= wanted and dirty == 0)

        await until(caught_up, 60, "the rollup runner caught up")
        chart = await vigil.ok(
            """query($from: DateTime, $to: DateTime) { metricSeries(project: "demo",
              name: "cpu.usage", from: $from, to: $to, step: "1h") { resolution } }""",
            {"from": iso(start), "to": iso(start + 8 * HOUR_MS)},
            auth=ADMIN,
        )
        assert chart["metricSeries"]["resolution"] == "1h"
        answer = await report(vigil, start, step="1h")
        assert answer["total"] == "2.26" and answer["idle"]["cost"] == "0.76"
        assert by_owner(answer) == {"api": "0.75", "batch": "0.44", "web": "0.31"}
