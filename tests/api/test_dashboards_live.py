"""dashboardUpdated and dashboardCreated over real websockets: new values after ingest,
coalescing, new versions, deletion, and nothing of another project."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.alerting.events import AlertEvent
from domain.dashboards.events import DashboardEvent
from domain.metrics.events import MetricCollectedEvent
from tests.api.dashboards_support import (
    CPU_WIDGET,
    DELETE,
    DOCUMENT,
    EDITOR,
    UPDATE,
    VIEWER,
    create,
    send,
)
from tests.support import RunningVigil, WSClient, make_settings, serve, token, ws_client

UPDATED = """subscription($p: String!, $id: ID!, $vars: Tags) {
  dashboardUpdated(project: $p, id: $id, variables: $vars, range: "1h") {
    dashboardId version from to
    widgets { widgetId kind value step timestamps series { tags values }
              rows { tags value } } } }"""
CREATED = """subscription($p: String!) { dashboardCreated(project: $p) {
  project dashboardId name version createdBy at } }"""


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        await send(running, ("web-1", 10.0), ("web-2", 20.0))
        yield running


async def subscribe(
    vigil: RunningVigil, client: WSClient, query: str, variables: dict[str, Any]
) -> str:
    """Subscribe, and return once the server serves the subscription: dashboardUpdated
    follows the points, alerts and dashboards of the project, dashboardCreated the last."""
    project = variables["p"]
    channels = [DashboardEvent.channel_for(project)]
    if query == UPDATED:
        channels += [MetricCollectedEvent.channel_for(project), AlertEvent.channel_for(project)]
    before = {channel: vigil.listeners(channel) for channel in channels}
    op_id = await client.subscribe(query, variables)
    for channel in channels:
        await vigil.listening(channel, before[channel] + 1)
    return op_id


def code_of(message: dict[str, Any]) -> str:
    """The error code of a refused subscription (an error raised by its resolver comes as a
    result with errors)."""
    payload = message["payload"]
    errors = payload if message["type"] == "error" else payload["errors"]
    code: str = errors[0]["extensions"]["code"]
    return code


def values(widget: dict[str, Any]) -> dict[str, list[float]]:
    return {
        line["tags"]["host"]: [v for v in line["values"] if v is not None]
        for line in widget["series"]
    }


async def test_new_points_reach_a_subscribed_dashboard(vigil: RunningVigil) -> None:
    made = await create(vigil)
    async with ws_client(vigil.ws_url, VIEWER) as client:
        op = await subscribe(vigil, client, UPDATED, {"p": "demo", "id": made["id"]})

        await send(vigil, ("web-1", 77.0))
        message = await client.next_for(op)

    assert message["type"] == "next", message
    update = message["payload"]["data"]["dashboardUpdated"]
    assert (update["dashboardId"], update["version"]) == (made["id"], 1)
    widgets = {w["widgetId"]: w for w in update["widgets"]}
    assert set(widgets) == {"w1", "w2", "w3", "w4"}  # the widgets over cpu; not text or alerts
    assert values(widgets["w1"])["web-1"][-1] == 77.0
    assert widgets["w1"]["step"] == 5.0  # fitted to the default width
    assert widgets["w2"]["value"] == 77.0  # max over the range
    assert {"tags": {"host": "web-1"}, "value": 77.0} in widgets["w4"]["rows"]


async def test_a_variable_keeps_other_series_from_waking_the_widget(vigil: RunningVigil) -> None:
    only_cpu = DOCUMENT | {"widgets": [CPU_WIDGET]}
    made = await create(vigil, only_cpu)
    async with ws_client(vigil.ws_url, VIEWER) as client:
        op = await subscribe(
            vigil, client, UPDATED, {"p": "demo", "id": made["id"], "vars": {"host": "web-2"}}
        )

        await send(vigil, ("web-1", 50.0))
        with pytest.raises(TimeoutError):
            await client.next_for(op, timeout=0.8)
        await send(vigil, ("web-2", 60.0))
        message = await client.next_for(op)

    [widget] = message["payload"]["data"]["dashboardUpdated"]["widgets"]
    assert values(widget) == {"web-2": [20.0, 60.0]} or values(widget) == {"web-2": [60.0]}


async def test_a_burst_of_points_is_coalesced_per_tick(vigil: RunningVigil) -> None:
    made = await create(vigil, DOCUMENT | {"widgets": [CPU_WIDGET]})
    async with ws_client(vigil.ws_url, VIEWER) as client:
        op = await subscribe(vigil, client, UPDATED, {"p": "demo", "id": made["id"]})
        started = time.monotonic()
        for i in range(20):
            await send(vigil, ("web-1", 100.0 + i))
        sent_for = time.monotonic() - started
        received = []
        while True:
            try:
                received.append(await client.next_for(op, timeout=1.0))
            except TimeoutError:
                break

    # at most one message per 0.25 s tick (and one more for what arrives at the end)
    assert 1 <= len(received) <= sent_for / 0.25 + 2, (len(received), sent_for)
    last = received[-1]["payload"]["data"]["dashboardUpdated"]["widgets"][0]
    assert values(last)["web-1"][-1] == 119.0  # nothing is lost: the last picture is complete


async def test_a_new_version_resends_every_widget_and_a_delete_ends_the_stream(
    vigil: RunningVigil,
) -> None:
    made = await create(vigil)
    async with ws_client(vigil.ws_url, VIEWER) as client:
        op = await subscribe(vigil, client, UPDATED, {"p": "demo", "id": made["id"]})
        changed = DOCUMENT | {"widgets": [CPU_WIDGET, CPU_WIDGET | {"id": "more"}]}
        await vigil.ok(UPDATE, {"p": "demo", "id": made["id"], "v": 1, "d": changed}, auth=EDITOR)
        message = await client.next_for(op)
        update = message["payload"]["data"]["dashboardUpdated"]
        assert update["version"] == 2
        assert {w["widgetId"] for w in update["widgets"]} == {"w1", "more"}

        await vigil.ok(DELETE, {"p": "demo", "id": made["id"]}, auth=EDITOR)
        assert await client.next_for(op) == {"id": op, "type": "complete"}


async def test_nothing_of_another_project_reaches_a_subscriber(vigil: RunningVigil) -> None:
    mine = await create(vigil)
    outsider = token("olga", other="admin")
    await send(vigil, ("db-1", 1.0), project="other")
    theirs = (
        await vigil.ok(
            """mutation($d: DashboardInput!) { createDashboard(project: "other", dashboard: $d)
               { id } }""",
            {"d": DOCUMENT},
            auth=outsider,
        )
    )["createDashboard"]
    async with ws_client(vigil.ws_url, outsider) as client:
        op = await subscribe(vigil, client, UPDATED, {"p": "other", "id": theirs["id"]})
        foreign = await client.subscribe(UPDATED, {"p": "other", "id": mine["id"]})
        assert code_of(await client.next_for(foreign)) == "NOT_FOUND"
        denied = await client.subscribe(UPDATED, {"p": "demo", "id": mine["id"]})
        assert code_of(await client.next_for(denied)) == "FORBIDDEN"

        await send(vigil, ("web-1", 99.0))  # demo's points
        with pytest.raises(TimeoutError):
            await client.next_for(op, timeout=1.0)
        await send(vigil, ("db-1", 2.0), project="other")
        update = (await client.next_for(op))["payload"]["data"]["dashboardUpdated"]

    assert update["dashboardId"] == theirs["id"]
    assert values({"series": update["widgets"][0]["series"]}) == {"db-1": [1.0, 2.0]} or values(
        {"series": update["widgets"][0]["series"]}
    ) == {"db-1": [2.0]}


async def test_dashboard_created_streams_new_dashboards_of_the_project(vigil: RunningVigil) -> None:
    both = token("vic", demo="viewer", other="viewer")
    async with ws_client(vigil.ws_url, both) as client:
        op = await subscribe(vigil, client, CREATED, {"p": "demo"})
        other = await subscribe(vigil, client, CREATED, {"p": "other"})
        made = await create(vigil)
        message = await client.next_for(op)
        with pytest.raises(TimeoutError):
            await client.next_for(other, timeout=0.3)

    created = message["payload"]["data"]["dashboardCreated"]
    assert created | {"at": None} == {
        "project": "demo",
        "dashboardId": made["id"],
        "name": "Web servers",
        "version": 1,
        "createdBy": "erin",
        "at": None,
    }
