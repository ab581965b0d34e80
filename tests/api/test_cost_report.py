"""Cost reports through /graphql on both stores: the hand example (two nodes, three
workloads, one over its request and one under) reproduced to the cent from ingested
metrics, with idle apart and shared, by any tags, hour by hour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.cost_support import HOUR_MS, load_example, report
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve


async def _duckdb(tmp_path: Path) -> Any:
    return None  # the app opens its own DuckDB file


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
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
    cpu = {r["resource"]: r for r in api["resources"]}["cpu_cores"]
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
