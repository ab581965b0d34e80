"""Widget data through the real app: one round trip, variables, steps fitted to the width,
thresholds, tables, alert lists, per-widget errors, and the built-in system dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.dashboards_support import (
    ADMIN,
    CPU_WIDGET,
    DOCUMENT,
    EDITOR,
    GET,
    VIEWER,
    by_widget,
    create,
    error,
    send,
)
from tests.support import RunningVigil, make_settings, serve, token

CREATE_ALERT = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        await send(running, ("web-1", 10.0), ("web-2", 20.0), at=ago(30))
        await send(running, ("web-1", 30.0), ("web-2", 5.0), at=ago(20))
        yield running


async def data(vigil: RunningVigil, dashboard_id: str, **args: Any) -> dict[str, Any]:
    variables = {"p": "demo", "id": dashboard_id, "to": NOW.isoformat()} | args
    found: dict[str, Any] = (await vigil.ok(GET, variables, auth=VIEWER))["dashboard"]
    return found


def lines(widget: dict[str, Any]) -> dict[str, list[float]]:
    """Each line's non-empty values, by its host tag."""
    return {
        line["tags"].get("host", ""): [v for v in line["values"] if v is not None]
        for line in widget["series"]
    }


async def test_every_widget_has_its_data_in_one_round_trip(vigil: RunningVigil) -> None:
    made = await create(vigil)

    found = await data(vigil, made["id"], range="1h")

    assert found["data"]["from"] == (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert found["data"]["variables"] == [
        {"name": "host", "value": "*", "options": ["web-1", "web-2"]}
    ]
    widgets = by_widget(found)
    assert lines(widgets["w1"]) == {"web-1": [10.0, 30.0], "web-2": [20.0, 5.0]}
    assert (widgets["w2"]["value"], widgets["w2"]["color"]) == (30.0, "green")
    assert widgets["w3"]["value"] == 5.0  # the last point (web-2 at 20 minutes ago)
    assert widgets["w4"]["rows"] == [
        {"tags": {"host": "web-1"}, "value": 30.0},
        {"tags": {"host": "web-2"}, "value": 5.0},
    ]
    assert widgets["w5"]["alerts"] == []
    assert widgets["w6"]["error"] is None and widgets["w6"]["series"] == []
    assert all(w["error"] is None for w in widgets.values())


async def test_a_variable_narrows_the_queries_that_name_it(vigil: RunningVigil) -> None:
    made = await create(vigil)

    found = by_widget(await data(vigil, made["id"], vars={"host": "web-2"}))

    assert lines(found["w1"]) == {"web-2": [20.0, 5.0]}
    assert found["w2"]["value"] == 30.0  # the stat's query names no variable
    unknown = await vigil.gql(
        GET, {"p": "demo", "id": made["id"], "vars": {"dc": "x"}}, auth=VIEWER
    )
    refused = error(unknown)
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert "unknown variable(s) $dc" in refused["message"]


@pytest.mark.parametrize(
    ("width", "range_", "step", "most"),
    [
        (1920, "1h", 5.0, 960),  # a 12-column widget is 960 px: 3600 s / 960 -> 5 s
        (960, "1h", 10.0, 480),  # 480 px -> 7.5 s, the next readable step is 10 s
        (960, "1d", 300.0, 480),  # 86400 s / 480 -> 180 s -> 5 min
        (480, "6h", 120.0, 240),
    ],
)
async def test_the_step_follows_the_range_and_the_widget_width(
    vigil: RunningVigil, width: int, range_: str, step: float, most: int
) -> None:
    made = await create(vigil)

    widget = by_widget(await data(vigil, made["id"], width=width, range=range_))["w1"]

    assert widget["step"] == step
    assert len(widget["timestamps"]) <= most
    assert all(len(line["values"]) == len(widget["timestamps"]) for line in widget["series"])
    assert widget["timestamps"][1] - widget["timestamps"][0] == step * 1000


async def test_a_step_set_on_the_query_is_kept_and_a_bad_one_fails_only_its_widget(
    vigil: RunningVigil,
) -> None:
    fine = CPU_WIDGET | {"queries": [{"metric": "cpu", "step": "15m"}]}
    dense = CPU_WIDGET | {"id": "dense", "queries": [{"metric": "cpu", "step": 1}]}
    made = await create(vigil, DOCUMENT | {"widgets": [fine, dense]})

    widgets = by_widget(await data(vigil, made["id"], range="1d"))

    assert widgets["w1"]["step"] == 900.0 and widgets["w1"]["error"] is None
    assert widgets["dense"]["series"] == []
    assert "more than 11000 buckets" in widgets["dense"]["error"]


async def test_thresholds_colour_the_stat_and_alert_lists_show_firing_alerts(
    vigil: RunningVigil,
) -> None:
    made = await create(vigil)
    rule = {"name": "cpu high", "metric": "cpu", "threshold": 90, "aggregation": "LAST"}
    alert = (await vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=EDITOR))["createAlert"]
    await send(vigil, ("web-1", 95.0), at=ago(1))

    widgets = by_widget(await data(vigil, made["id"]))

    assert (widgets["w2"]["value"], widgets["w2"]["color"]) == (95.0, "red")
    assert widgets["w5"]["alerts"] == [{"id": alert["id"], "name": "cpu high", "state": "FIRING"}]


async def test_the_system_dashboard_exists_after_start_and_once_only(tmp_path: Path) -> None:
    reader = token("sam", system="viewer")
    query = """{ dashboards(project: "system") { items { id name createdBy version
      widgets { kind queries { metric } } } } }"""
    async with serve(make_settings(tmp_path)) as vigil:
        first = (await vigil.ok(query, auth=reader))["dashboards"]["items"]
    async with serve(make_settings(tmp_path)) as vigil:
        again = (await vigil.ok(query, auth=reader))["dashboards"]["items"]
        page = await vigil.ok(
            '{ dashboard(project: "system", id: "vigil-system") { data { widgets { error } } } }',
            auth=reader,
        )

    assert again == first
    [system] = first
    assert (system["id"], system["name"], system["createdBy"], system["version"]) == (
        "vigil-system",
        "Vigil system",
        "vigil",
        1,
    )
    metrics = {q["metric"] for w in system["widgets"] for q in w["queries"]}
    assert {
        "vigil.api.latency_ms",
        "vigil.api.errors_total",
        "vigil.process.cpu_percent",
    } <= metrics
    kinds = {w["kind"] for w in system["widgets"]}
    assert kinds == {"STAT", "GAUGE", "TIMESERIES", "ALERT_LIST", "TEXT"}
    assert all(w["error"] is None for w in page["dashboard"]["data"]["widgets"])


async def test_the_system_dashboard_is_not_visible_from_another_project(
    vigil: RunningVigil,
) -> None:
    body = await vigil.gql('{ dashboard(project: "demo", id: "vigil-system") { id } }', auth=ADMIN)
    assert error(body)["extensions"]["code"] == "NOT_FOUND"
