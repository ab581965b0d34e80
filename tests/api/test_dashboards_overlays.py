"""A time series widget overlays analytics (issue 14, dashboards): each line's forecast past
the range with its 80% and 95% bands, and the change points within it, through the real
app with the real worker processes."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.dashboards_support import CREATE, CREATE_POINTS, EDITOR, VIEWER, error
from tests.support import RunningVigil, make_settings, serve, token

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
MINUTES = 240
SHIFT_AT = 120  # minutes into the range: the level goes from 10 to 30
HORIZON_MINUTES = 30
WIDGET: dict[str, Any] = {
    "id": "lat",
    "kind": "TIMESERIES",
    "title": "Latency",
    "layout": {"x": 0, "y": 0, "w": 24, "h": 8},
    "queries": [{"metric": "lat", "aggregation": "AVG", "step": 60}],
    "forecast": f"{HORIZON_MINUTES}m",
    "changePoints": True,
}
GET = """query($id: ID!, $to: DateTime) {
  dashboard(project: "demo", id: $id, range: "4h", to: $to) {
    widgets { forecast changePoints }
    data { widgets { timestamps overlayError error
      series { values forecast { mean lower80 upper80 lower95 upper95 model mase coverage95 } }
      changePoints { query tags at change meanBefore meanAfter audit } } } } }"""


def minute(index: int) -> datetime:
    return NOW - timedelta(minutes=MINUTES - index)


async def _history(vigil: RunningVigil) -> None:
    noise = random.Random(7)
    points = [
        {
            "name": "lat",
            "value": (10.0 if i < SHIFT_AT else 30.0) + noise.gauss(0, 1),
            "tags": {"host": "a"},
            "timestamp": minute(i).isoformat(),
        }
        for i in range(MINUTES)
    ]
    await vigil.ok(CREATE_POINTS, {"p": "demo", "points": points}, auth=token(demo="admin"))


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    # a long synchronous deadline: the first fit waits for the worker pool to start
    settings = make_settings(tmp_path, analytics_sync_timeout_seconds=60.0, analytics_workers=1)
    async with serve(settings) as running:
        await _history(running)
        yield running


async def _dashboard(vigil: RunningVigil, widget: dict[str, Any]) -> dict[str, Any]:
    document = {"name": "Overlays", "timeRange": "4h", "widgets": [widget]}
    made = await vigil.ok(CREATE, {"p": "demo", "d": document}, auth=EDITOR)
    found = await vigil.ok(
        GET, {"id": made["createDashboard"]["id"], "to": NOW.isoformat()}, auth=VIEWER
    )
    dashboard: dict[str, Any] = found["dashboard"]
    return dashboard


async def test_a_forecast_extends_the_axis_with_its_bands(vigil: RunningVigil) -> None:
    dashboard = await _dashboard(vigil, WIDGET)

    assert dashboard["widgets"] == [{"forecast": HORIZON_MINUTES * 60.0, "changePoints": True}]
    (data,) = dashboard["data"]["widgets"]
    assert data["error"] is None and data["overlayError"] is None
    stamps = data["timestamps"]
    assert stamps[-1] - NOW.timestamp() * 1000 == (HORIZON_MINUTES - 1) * 60_000
    (line,) = data["series"]
    past = len(stamps) - HORIZON_MINUTES
    assert all(v is None for v in line["values"][past:])  # no data past the range
    assert sum(v is not None for v in line["values"][:past]) == MINUTES
    forecast = line["forecast"]
    assert all(v is None for v in forecast["mean"][:past])
    ahead = range(past, len(stamps))
    for i in ahead:
        edges = [forecast[k][i] for k in ("lower95", "lower80", "mean", "upper80", "upper95")]
        assert edges == sorted(edges), (i, edges)
    means = [forecast["mean"][i] for i in ahead]
    assert all(25 < m < 35 for m in means), means  # the level after the shift, not the average
    assert forecast["model"] and forecast["mase"] > 0 and 0 <= forecast["coverage95"] <= 1


async def test_the_shift_is_marked_where_it_happened(vigil: RunningVigil) -> None:
    dashboard = await _dashboard(vigil, WIDGET)

    (data,) = dashboard["data"]["widgets"]
    (mark,) = data["changePoints"]
    assert mark["query"] == 0 and mark["tags"] == {"host": "a"}
    assert abs(mark["at"] - minute(SHIFT_AT).timestamp() * 1000) <= 2 * 60_000
    assert mark["change"] in ("level", "level_and_variance")
    assert abs(mark["meanBefore"] - 10) < 1 and abs(mark["meanAfter"] - 30) < 1


async def test_lines_are_drawn_when_the_overlay_cannot_be(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, analytics_sync_max_points=100, analytics_workers=1)
    async with serve(settings) as vigil:
        await _history(vigil)
        dashboard = await _dashboard(vigil, WIDGET)

    (data,) = dashboard["data"]["widgets"]
    assert "createAnalyticsJob" in data["overlayError"]
    (line,) = data["series"]
    assert line["forecast"] is None and data["changePoints"] == []
    assert sum(v is not None for v in line["values"]) == MINUTES


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"forecast": "-5m"}, "widgets[0].forecast"),
        ({"forecast": "soon"}, "widgets[0].forecast"),
        ({"forecast": 0.5}, "widgets[0].forecast"),
        ({"changePoints": "yes"}, "widgets[0].changePoints"),
        ({"kind": "STAT", "changePoints": None}, "a stat widget takes no forecast"),
    ],
)
async def test_a_bad_overlay_is_refused_and_nothing_is_saved(
    vigil: RunningVigil, change: dict[str, Any], problem: str
) -> None:
    document = {"name": "Bad", "widgets": [WIDGET | change]}
    body = await vigil.gql(CREATE, {"p": "demo", "d": document}, auth=EDITOR)

    refusal = error(body)
    assert refusal["extensions"]["code"] == "BAD_USER_INPUT"
    assert problem in str(refusal), refusal
    listed = await vigil.ok('{ dashboards(project: "demo") { items { id } } }', auth=VIEWER)
    assert listed["dashboards"]["items"] == []
