"""The query budget (issue 12, item 3), through the real app: an operation estimated above
VIGIL_QUERY_MAX_COST is refused before any resolver runs, one caller runs at most
VIGIL_QUERY_MAX_HEAVY_PER_CALLER reads of stored points at once, and a query over the
websocket stops at VIGIL_QUERY_TIMEOUT_SECONDS like one over HTTP (tests/e2e/
test_query_timeout.py)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from infra.config import Settings
from infra.stores.mongo.database import MongoDatabase
from infra.stores.mongo.schema import POINTS
from tests.api.dashboards_support import CREATE_POINTS, EDITOR, create, send
from tests.contract.mongo_emulator import URL_ENV
from tests.heavy_store import heavy_store
from tests.support import RunningVigil, make_settings, serve, token, until, ws_client

BUDGET = Settings().query_max_cost
NESTED = """query($p: String!, $id: ID!, $n: Int!) { dashboard(project: $p, id: $id) {
  versions(first: $n) { versions(first: $n) { id version } } } }"""
NESTED_UPDATE = """mutation($p: String!, $id: ID!, $v: Int!, $d: DashboardInput!) {
  updateDashboard(project: $p, dashboardId: $id, expectedVersion: $v, dashboard: $d) {
    versions(first: 1000) { versions(first: 1000) { id } } } }"""
VERSION = "query($p: String!, $id: ID!) { dashboard(project: $p, id: $id) { version } }"
SERIES = """query($p: String!, $n: String!, $from: DateTime, $to: DateTime) {
  metricSeries(project: $p, name: $n, from: $from, to: $to, aggregation: P99) {
    series { values } } }"""
HEAVY_POINTS = 10_000_000  # a P99 over them takes a CPU-second or more


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["budget"] == BUDGET
    assert error["extensions"]["cost"] > BUDGET
    assert f"budget is {BUDGET}" in error["message"]
    return error


async def test_nested_versions_are_refused_before_they_run(vigil: RunningVigil) -> None:
    await send(vigil, ("web-1", 1.0))
    dashboard = await create(vigil)
    ids = {"p": "demo", "id": dashboard["id"]}
    # five levels of versions(first: 1000), as the case, and just two
    five = "versions(first: 1000) { " * 5 + "id" + " }" * 5
    deep = "query($p: String!, $id: ID!) { dashboard(project: $p, id: $id) { " + five + " } }"
    error = _refusal(await vigil.gql(deep, ids, auth=EDITOR))
    assert error["extensions"]["cost"] >= 1000**5
    error = _refusal(await vigil.gql(NESTED, {**ids, "n": 1000}, auth=EDITOR))
    assert error["extensions"]["cost"] == 1 + 1000 + 1000 * 1000
    # The same shape with small pages is served.
    data = await vigil.ok(NESTED, {**ids, "n": 5}, auth=EDITOR)
    assert data["dashboard"]["versions"][0]["versions"][0]["version"] == 1
    # Nothing runs: a refused mutation changes nothing.
    update = {**ids, "v": 1, "d": {"name": "renamed", "widgets": []}}
    _refusal(await vigil.gql(NESTED_UPDATE, update, auth=EDITOR))
    assert (await vigil.ok(VERSION, ids, auth=EDITOR))["dashboard"]["version"] == 1


async def test_the_refusal_follows_the_setting(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, query_max_cost=50)) as vigil:
        small = '{ dashboards(project: "demo", first: 4) { items { id } } }'
        await vigil.ok(small, auth=EDITOR)
        big = '{ dashboards(project: "demo", first: 60) { items { id } } }'
        (error,) = (await vigil.gql(big, auth=EDITOR))["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "cost": 61, "budget": 50}


async def test_any_single_chart_fits_the_default_budget(vigil: RunningVigil) -> None:
    """The bucket limit (11,000) already bounds one chart; the budget refuses many."""
    await send(vigil, ("web-1", 1.0))
    chart = """cN: metricSeries(project: "demo", name: "cpu", from: "2026-01-01T00:00:00Z",
      to: "2026-01-08T15:20:00Z", step: "1m", groupBy: ["host"]) { timestamps }"""
    data = await vigil.ok("{ " + chart.replace("cN", "c1") + " }", auth=EDITOR)
    assert len(data["c1"]["timestamps"]) == 11_000
    three = "{ " + " ".join(chart.replace("cN", f"c{n}") for n in range(3)) + " }"
    error = _refusal(await vigil.gql(three, auth=EDITOR))
    assert error["extensions"]["cost"] == 3 * (1 + 11_000 * 100 // 50)


@pytest.fixture
async def heavy(tmp_path: Path) -> AsyncIterator[tuple[RunningVigil, dict[str, str]]]:
    store = tmp_path / "heavy.duckdb"
    start, end = heavy_store(store, HEAVY_POINTS)
    settings = make_settings(tmp_path, store_url=f"duckdb:///{store}", query_max_heavy_per_caller=1)
    async with serve(settings) as vigil:
        vigil.http.timeout = 120
        yield vigil, {"p": "demo", "n": "heavy", "from": start, "to": end}


async def test_one_caller_runs_a_bounded_number_of_heavy_reads(
    heavy: tuple[RunningVigil, dict[str, str]],
) -> None:
    vigil, variables = heavy
    alice, bob = token("alice", demo="viewer"), token("bob", demo="viewer")
    light = {**variables, "n": "light"}
    running = asyncio.create_task(vigil.gql(SERIES, variables, auth=alice))
    heavy_reads = vigil.app.state.vigil.schema.heavy_reads.running
    await until(lambda: heavy_reads["subject:alice"] == 1 or running.done(), 60, "alice reads")
    body = await vigil.gql(SERIES, light, auth=alice)
    assert not running.done(), "the first read ended before a second one was tried"
    assert body["data"] is None, body
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "limit": 1}
    # Another caller is not held back by alice's reads.
    body = await vigil.gql(SERIES, light, auth=bob)
    assert body["data"]["metricSeries"]["series"][0]["values"] == [pytest.approx(8.91)]
    # Reads that scan no points are not counted: alice still lists her metrics.
    names = await vigil.ok('{ metricNames(project: "demo") }', auth=alice)
    assert names["metricNames"] == ["heavy", "light"]
    first = await running
    assert "errors" not in first, first
    # Once her read is over, alice's next one runs.
    body = await vigil.gql(SERIES, light, auth=alice)
    assert "errors" not in body, body


async def test_a_query_over_the_websocket_stops_at_the_timeout(tmp_path: Path) -> None:
    store = tmp_path / "heavy.duckdb"
    start, end = heavy_store(store, HEAVY_POINTS)
    settings = make_settings(tmp_path, store_url=f"duckdb:///{store}", query_timeout_seconds=0.2)
    variables = {"p": "demo", "n": "heavy", "from": start, "to": end}
    async with serve(settings) as vigil, ws_client(vigil.ws_url, token(demo="viewer")) as ws:
        await ws.send(
            {"id": "q", "type": "subscribe", "payload": {"query": SERIES, "variables": variables}}
        )
        message = await ws.next_for("q", timeout=60)
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "TIMEOUT"
        assert "0.2 s" in message["payload"][0]["message"]


class _Commands(monitoring.CommandListener):
    """The commands a MongoClient sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_mongodb_reads_carry_the_query_time_limit(tmp_path: Path) -> None:
    """maxTimeMS is MongoDB's side of the timeout; only a real server shows the commands
    (VIGIL_TEST_MONGO_URL; skipped without it)."""
    url = os.environ.get(URL_ENV)
    if not url:
        pytest.skip(f"{URL_ENV} is not set: only a real MongoDB server shows maxTimeMS")
    commands = _Commands()
    client: Any = AsyncMongoClient(url, tz_aware=False, event_listeners=[commands])
    name = f"vigil_test_{uuid.uuid4().hex[:20]}"
    database: MongoDatabase | None = None
    try:
        database = await MongoDatabase.open_with_client(client, database=name)
        settings = make_settings(tmp_path, query_timeout_seconds=5)
        async with serve(settings, database=database) as vigil:
            points = [{"name": "light", "value": 1.0}]
            await vigil.ok(CREATE_POINTS, {"p": "demo", "points": points}, auth=token())
            commands.sent.clear()
            light = {"p": "demo", "n": "light", "from": "2000-01-01T00:00:00Z", "to": None}
            await vigil.ok(SERIES, light, auth=token())
        # the chart's reads of points (background ticks read other collections meanwhile)
        reads = [c for kind, c in commands.sent if kind == "aggregate" and c[kind] == POINTS]
        assert reads, commands.sent
        for command in reads:  # our 5 s plus MongoDB's 1 s of grace, less the round trip
            assert 0 < command["maxTimeMS"] <= 6_000, command
    finally:
        if database is not None:
            await database.close()
        await client.drop_database(name)
        await client.close()
