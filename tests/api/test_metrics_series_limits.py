"""Issue 12, item 2: per-project limits on active series and on new series per minute.

A tenant creating series without bound is refused with LIMIT_EXCEEDED naming the point,
the limit and the current count; nothing of the batch is stored; the counts survive a
restart (read from the store at start) on DuckDB and on the MongoDB adapter; the
collector endpoints answer the same; the counts are self-monitoring metrics.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, token, until

ADMIN = token(demo="admin", system="viewer")
COLLECTOR = token("agent", demo="collector")
CREATE = """mutation($points: PointBatch!) {
  createMetrics(project: "demo", points: $points) { accepted } }"""
LIST = """query($name: String!) {
  metrics(project: "demo", name: $name, first: 1000) { items { value tags } } }"""
SYSTEM = """query($name: String!) {
  metrics(project: "system", name: $name, first: 100) { items { value tags } } }"""
STORES = ["duckdb", "mongo-emulated"]


@contextlib.asynccontextmanager
async def running(tmp_path: Path, store: str, **settings: Any) -> AsyncIterator[RunningVigil]:
    """A Vigil on the test's store: DuckDB in tmp_path, or the MongoDB emulator of
    tmp_path (the same emulated server again when opened again: a restart)."""
    if store == "duckdb":
        async with serve(make_settings(tmp_path, **settings)) as vigil:
            yield vigil
        return
    database = await open_mongo_emulated(tmp_path)
    try:
        async with serve(make_settings(tmp_path, **settings), database=database) as vigil:
            yield vigil
    finally:
        await database.close()


def point(host: str, value: float = 1.0) -> dict[str, Any]:
    stamp = int(time.time() * 1000) - 1_000
    return {"name": "cpu", "value": value, "timestamp": stamp, "tags": {"host": host}}


async def refusal(vigil: RunningVigil, points: list[dict[str, Any]]) -> dict[str, Any]:
    body = await vigil.gql(CREATE, {"points": points}, auth=ADMIN)
    assert "errors" in body, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED", error
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def hosts(vigil: RunningVigil) -> list[str]:
    items = (await vigil.ok(LIST, {"name": "cpu"}, auth=ADMIN))["metrics"]["items"]
    return sorted(item["tags"]["host"] for item in items)


async def accepted(vigil: RunningVigil, points: list[dict[str, Any]]) -> int:
    count: int = (await vigil.ok(CREATE, {"points": points}, auth=ADMIN))["createMetrics"][
        "accepted"
    ]
    return count


@pytest.mark.parametrize("store", STORES)
async def test_active_series_past_the_limit_are_refused_even_after_a_restart(
    tmp_path: Path, store: str
) -> None:
    limits = {"max_active_series": 5, "max_new_series_per_minute": 0}
    async with running(tmp_path, store, **limits) as vigil:
        assert await accepted(vigil, [point(f"h{i}") for i in range(4)]) == 4
        # two known series and three new ones: the second new one (point #3) is one too many
        batch = [point("h0"), point("n1"), point("h1"), point("n2"), point("n3")]
        assert await refusal(vigil, batch) == {
            "code": "LIMIT_EXCEEDED",
            "index": 3,
            "limit": "activeSeries",
            "max": 5,
            "current": 4,
        }
        assert await hosts(vigil) == ["h0", "h1", "h2", "h3"]  # nothing of it stored

    async with running(tmp_path, store, **limits) as vigil:  # a restart
        refused = await refusal(vigil, [point("n1"), point("n2")])
        assert (refused["index"], refused["current"]) == (1, 4)  # counted from the store
        assert await accepted(vigil, [point("n1"), point("h0")]) == 2
        assert (await refusal(vigil, [point("n2")]))["current"] == 5
        assert await accepted(vigil, [point(f"h{i}") for i in range(4)]) == 4  # known ones
        assert await hosts(vigil) == ["h0", "h0", "h0", "h1", "h1", "h2", "h2", "h3", "h3", "n1"]


@pytest.mark.parametrize("store", STORES)
async def test_new_series_per_minute_past_the_limit_are_refused_even_after_a_restart(
    tmp_path: Path, store: str
) -> None:
    limits = {"max_active_series": 0, "max_new_series_per_minute": 3}
    async with running(tmp_path, store, **limits) as vigil:
        assert await accepted(vigil, [point("a"), point("b"), point("c")]) == 3
        refused = await refusal(vigil, [point("a"), point("d")])
        assert {k: refused[k] for k in ("index", "limit", "max", "current")} == {
            "index": 1,
            "limit": "newSeriesPerMinute",
            "max": 3,
            "current": 3,
        }
        assert 1 <= refused["retryAfterSeconds"] <= 60
        assert await accepted(vigil, [point("a"), point("b")]) == 2  # known series pass

    # A restart, within the minute: it takes a second or two, 60 s leaves the margin.
    async with running(tmp_path, store, **limits) as vigil:
        assert (await refusal(vigil, [point("d")]))["current"] == 3
        assert await hosts(vigil) == ["a", "a", "b", "b", "c"]


async def test_a_series_idle_for_the_window_stops_counting(tmp_path: Path) -> None:
    window = 1.0
    limits = {"max_active_series": 2, "active_series_window_seconds": window}
    async with running(tmp_path, "duckdb", **limits) as vigil:
        assert await accepted(vigil, [point("a"), point("b")]) == 2
        assert (await refusal(vigil, [point("c")]))["limit"] == "activeSeries"

        async def admitted() -> bool:
            body = await vigil.gql(CREATE, {"points": [point("c")]}, auth=ADMIN)
            return "errors" not in body

        # a and b received nothing for a window: c fits (polled; 30 s of margin)
        await until(admitted, window + 30, "a series admitted once the others went idle")
        assert "b" in await hosts(vigil)


async def test_collector_endpoints_answer_the_series_limits(tmp_path: Path) -> None:
    now_ns = time.time_ns()

    def lines(*hosts: str) -> bytes:
        return "\n".join(f"load,host={h} value=1 {now_ns}" for h in hosts).encode()

    headers = {"Authorization": f"Token {COLLECTOR}"}
    url = "/api/v2/write?org=acme&bucket=demo&precision=ns"
    async with running(tmp_path / "a", "duckdb", max_active_series=2) as vigil:
        ok = await vigil.http.post(url, content=lines("x", "y"), headers=headers)
        assert ok.status_code == 204, ok.text
        refused = await vigil.http.post(url, content=lines("x", "z"), headers=headers)
        # Retrying would not help until series go idle: 400, which senders drop.
        assert refused.status_code == 400, refused.text
        assert "limit of 2 active series" in refused.json()["message"]
        names = await vigil.ok('{ tagValues(project: "demo", key: "host") }', auth=ADMIN)
        assert names["tagValues"] == ["x", "y"]
    async with running(tmp_path / "b", "duckdb", max_new_series_per_minute=1) as vigil:
        ok = await vigil.http.post(url, content=lines("x"), headers=headers)
        assert ok.status_code == 204, ok.text
        refused = await vigil.http.post(url, content=lines("y"), headers=headers)
        assert refused.status_code == 429, refused.text  # senders retry later
        assert 1 <= int(refused.headers["retry-after"]) <= 60  # when the minute frees room
        assert "new series a minute" in refused.json()["message"]


async def test_the_counts_are_self_monitoring_metrics(tmp_path: Path) -> None:
    limits = {"max_active_series": 3, "self_monitor_seconds": 0.2}
    async with running(tmp_path, "duckdb", **limits) as vigil:
        assert await accepted(vigil, [point("a"), point("b"), point("c")]) == 3
        await refusal(vigil, [point("d")])

        async def newest(name: str) -> dict[str, Any] | None:
            items = (await vigil.ok(SYSTEM, {"name": name}, auth=ADMIN))["metrics"]["items"]
            demo = [i for i in items if i["tags"].get("project") == "demo"]
            return demo[0] if demo else None  # newest first

        async def recorded() -> bool:
            active = await newest("vigil.series.active")
            refused = await newest("vigil.series.refused_batches_total")
            created = await newest("vigil.series.created_last_minute")
            return (
                active is not None
                and active["value"] == 3
                and refused is not None
                and refused["value"] == 1
                and refused["tags"]["limit"] == "activeSeries"
                and created is not None
                and created["value"] == 3
            )

        # every self-monitoring interval (0.2 s); 30 s of margin on a loaded machine
        await until(recorded, 30, "the series counts of demo recorded in project system")
