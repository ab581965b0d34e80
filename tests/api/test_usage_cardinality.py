"""Cardinality and unused metrics through /graphql, on DuckDB and the MongoDB emulator:
which tag values bring the series, and which metrics nothing read (from the read log)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.usage.model import MINUTE_US
from tests.api.usage_support import SERIES, iso, runner, send, usage
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, token

CARDINALITY = """
query($p: String!, $m: String, $first: Int!) {
  cardinality(project: $p, metric: $m, first: $first) {
    series newSeries
    metrics { metric series newSeries }
    keys { key series values }
    topValues { key value series newSeries }
  }
}
"""
UNUSED = """
query($p: String!, $days: Int!) {
  unusedMetrics(project: $p, days: $days) { metric series lastRead storedBytes storageShare }
}
"""


async def _duckdb(tmp_path: Path) -> None:
    return None


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def served(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database: Any = await request.param(tmp_path)
    try:
        async with serve(make_settings(tmp_path), database=database) as vigil:
            yield vigil
    finally:
        if database is not None:
            await database.close()


async def test_cardinality_names_the_values_that_bring_the_series(served: RunningVigil) -> None:
    admin = token(demo="admin")
    await send(served, admin)
    data = await served.ok(CARDINALITY, {"p": "demo", "m": None, "first": 3}, auth=admin)
    found = data["cardinality"]
    assert (found["series"], found["newSeries"]) == (6, 6)
    assert found["metrics"] == [
        {"metric": "http.requests", "series": 4, "newSeries": 4},
        {"metric": "disk.free", "series": 1, "newSeries": 1},
        {"metric": "queue.depth", "series": 1, "newSeries": 1},
    ]
    assert found["keys"] == [
        {"key": "host", "series": 6, "values": 4},
        {"key": "service", "series": 5, "values": 3},
        {"key": "team", "series": 5, "values": 2},
    ]
    # The largest first, ties by key and value: the answer to "why did my series double".
    assert found["topValues"] == [
        {"key": "team", "value": "web", "series": 3, "newSeries": 3},
        {"key": "host", "value": "a", "series": 2, "newSeries": 2},
        {"key": "host", "value": "c", "series": 2, "newSeries": 2},
    ]

    one = await served.ok(CARDINALITY, {"p": "demo", "m": "queue.depth", "first": 5}, auth=admin)
    assert one["cardinality"]["series"] == 1
    assert {v["key"] for v in one["cardinality"]["topValues"]} == {"team", "service", "host"}


async def test_unused_metrics_are_those_nothing_read(served: RunningVigil) -> None:
    admin = token(demo="admin")
    await send(served, admin)
    since = iso(time.time_ns() // 1000 - 3_600_000_000)
    await served.ok(SERIES, {"p": "demo", "n": "http.requests", "from": since}, auth=admin)
    await runner(served).flush(everything=True)  # the read log is written once a minute

    data = await served.ok(UNUSED, {"p": "demo", "days": 7}, auth=admin)
    unused = data["unusedMetrics"]
    assert [m["metric"] for m in unused] == ["queue.depth", "disk.free"]  # largest first
    assert [m["lastRead"] for m in unused] == [None, None]
    assert [m["storedBytes"] for m in unused] == [2 * 16, 1 * 16]
    assert [round(m["storageShare"], 4) for m in unused] == [round(2 / 19, 4), round(1 / 19, 4)]

    refused = await served.gql(UNUSED, {"p": "demo", "days": 0}, auth=admin)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    other = await served.gql(UNUSED, {"p": "demo", "days": 7}, auth=token(other="admin"))
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_usage_groups_by_tags_on_this_store(served: RunningVigil) -> None:
    admin = token(demo="admin")
    sent = await send(served, admin)
    await runner(served).flush(everything=True)
    by_service = await usage(served, admin, group_by=["service"])
    assert {r["group"]["service"]: r["points"] for r in by_service["rows"]} == {
        "": 1,
        "api": 10,
        "etl": 5,
        "front": 3,
    }
    assert by_service["totals"][0]["points"] == sent


async def test_usage_series_and_every_projects_usage_on_this_store(served: RunningVigil) -> None:
    admin = token(demo="admin")
    sent = await send(served, admin)
    usage_runner = runner(served)
    await usage_runner.publish()  # takes the lease and samples the bytes of this minute
    await usage_runner.flush(everything=True)
    minute = time.time_ns() // 1000 // MINUTE_US * MINUTE_US
    later = minute + usage_runner.settings.lag_us + MINUTE_US + 1
    assert await usage_runner.publish(now_us=later) >= 1
    since = iso(minute - 60 * MINUTE_US)
    for name, expected in (("vigil.usage.points", sent), ("vigil.usage.bytes", sent * 16)):
        data = await served.ok(SERIES, {"p": "demo", "n": name, "from": since}, auth=admin)
        lines = {str(s["tags"]): s["values"] for s in data["metricSeries"]["series"]}
        values = lines.get("{'tier': 'raw'}", lines.get("{}", []))
        assert sum(v for v in values if v is not None) == expected, (name, lines)
    everyone = await served.ok(
        '{ usageAll(step: "3650d") { project totals { points } } }', auth=token(system="admin")
    )
    assert [(u["project"], u["totals"][0]["points"]) for u in everyone["usageAll"]] == [
        ("demo", sent)
    ]
