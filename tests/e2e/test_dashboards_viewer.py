"""The dashboard viewer in headless Chromium against a real `vigil serve`: the page loads,
the widgets render, and a point sent through the API appears on the chart without a reload."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.dashboards_browser import CHROMIUM, FLAGS, open_viewer, png_has_color
from tests.support import token
from tests.tools import missing

pytestmark = [pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if CHROMIUM is None:
        missing("chromium is not installed (apt-get install -y chromium)")


WEB = Path(__file__).resolve().parents[2] / "web"
POINTS = """mutation($points: PointBatch!) {
  createMetrics(project: "demo", points: $points) { accepted } }"""
CREATE = (
    """mutation($d: DashboardInput!) { createDashboard(project: "demo", dashboard: $d) { id } }"""
)
DOCUMENT: dict[str, Any] = {
    "name": "Browser test",
    "variables": [{"name": "host", "tag": "host"}],
    "widgets": [
        {
            "id": "cpu",
            "kind": "TIMESERIES",
            "title": "CPU",
            "layout": {"x": 0, "y": 0, "w": 16, "h": 8},
            "queries": [
                {
                    "metric": "cpu",
                    "aggregation": "MAX",
                    "groupBy": ["host"],
                    "matchers": [{"key": "host", "value": "$host"}],
                }
            ],
        },
        {
            "id": "peak",
            "kind": "STAT",
            "title": "Peak",
            "unit": "%",
            "layout": {"x": 16, "y": 0, "w": 8, "h": 4},
            "queries": [{"metric": "cpu", "aggregation": "MAX"}],
            "thresholds": [{"color": "green"}, {"value": 100, "color": "red"}],
        },
        {
            "id": "notes",
            "kind": "TEXT",
            "title": "Notes",
            "layout": {"x": 16, "y": 4, "w": 8, "h": 4},
            "text": "**Runbook** <script>window.injected = 1</script>",
        },
        {
            "id": "idle",
            "kind": "STAT",
            "title": "A host that never reported",
            "layout": {"x": 0, "y": 8, "w": 8, "h": 3},
            "queries": [
                {"metric": "cpu", "aggregation": "MAX", "matchers": [{"key": "host", "value": "x"}]}
            ],
        },
        {
            "id": "fine",
            "kind": "TIMESERIES",
            "title": "Too fine a step",
            "layout": {"x": 8, "y": 8, "w": 8, "h": 3},
            "queries": [{"metric": "cpu", "aggregation": "AVG", "step": 0.1}],
        },
    ],
}
# Each chart as wide as its widget's body, and no widget with content beyond its box.
CHART_FITS = """Object.entries(vigilViewer.charts).every(([id, chart]) => {
  const widget = document.querySelector(`[data-widget="${id}"]`);
  return chart.root.querySelector('canvas').clientWidth >= 0.9 * widget.clientWidth
    && chart.root.offsetHeight <= widget.querySelector('.body').clientHeight;
})"""
NO_OVERFLOW = """Array.from(document.querySelectorAll('.widget .body')).every(
  (body) => body.scrollHeight <= body.clientHeight && body.scrollWidth <= body.clientWidth)"""


def graphql(vigil: VigilProcess, auth: str, query: str, variables: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_the_viewer_draws_widgets_and_a_new_point_live(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    assert (WEB / "node_modules" / "uplot").is_dir(), "run `npm ci` in web/ (make test does)"
    # Production mode: the page's live socket passes the Origin check as Vigil's own page
    # (its Origin is the server's Host), with no leniency for localhost (issue 12, item 17).
    vigil = vigil_process(VIGIL_MODE="production")
    admin, viewer = token(demo="admin"), token("vic", demo="viewer")
    points = [{"name": "cpu", "value": v, "tags": {"host": "web-1"}} for v in (12.0, 42.0)]
    graphql(vigil, admin, POINTS, {"points": points})
    dashboard_id = graphql(vigil, admin, CREATE, {"d": DOCUMENT})["createDashboard"]["id"]

    async with open_viewer(vigil.url, dashboard_id, viewer, tmp_path / "profile") as page:
        assert await page.evaluate("document.title") == "Browser test · Vigil"
        assert await page.evaluate("location.hash") == ""  # the token left the address bar
        await page.wait_for("document.querySelectorAll('.uplot canvas').length === 1")
        drawn = await page.evaluate("Array.from(vigilViewer.charts.cpu.data[1])")
        assert 42.0 in drawn
        peak = await page.evaluate("document.querySelector('[data-widget=peak] .stat').textContent")
        assert peak == "42 %"
        assert await page.evaluate(CHART_FITS)
        assert await page.evaluate(NO_OVERFLOW)
        idle = "document.querySelector('[data-widget=idle] .body').textContent"
        assert await page.evaluate(idle) == "No data"
        fine = "document.querySelector('[data-widget=fine] .error').textContent"
        assert "11000 buckets" in await page.evaluate(fine)
        width = "document.querySelector('[data-widget=cpu] canvas').clientWidth"
        wide = await page.evaluate(width)
        metrics = {"height": 900, "deviceScaleFactor": 1, "mobile": False}
        await page.call("Emulation.setDeviceMetricsOverride", width=900, **metrics)
        await page.wait_for(f"{width} < {wide} * 0.8 && {CHART_FITS}")  # follows the window
        assert await page.evaluate(NO_OVERFLOW)
        notes = "document.querySelector('[data-widget=notes] .body')"
        assert await page.evaluate(f"{notes}.querySelector('strong').textContent") == "Runbook"
        assert await page.evaluate(f"{notes}.querySelector('script')") is None
        assert await page.evaluate("window.injected") is None
        await page.evaluate("window.stillTheSamePage = true")

        graphql(
            vigil,
            admin,
            POINTS,
            {"points": [{"name": "cpu", "value": 123.5, "tags": {"host": "web-1"}}]},
        )

        await page.wait_for("Array.from(vigilViewer.charts.cpu.data[1]).includes(123.5)")
        await page.wait_for(
            "document.querySelector('[data-widget=peak] .stat').textContent === '124 %'"
        )
        assert await page.evaluate("window.stillTheSamePage") is True  # no reload
        color = "getComputedStyle(document.querySelector('[data-widget=peak] .stat')).color"
        assert await page.evaluate(color) == "rgb(255, 0, 0)"
        assert await page.evaluate("vigilViewer.updates") >= 1
        assert page.errors == []

    assert viewer not in vigil.log.read_text()  # the fragment never reaches the server


def headless(url: str, profile: Path, *action: str) -> bytes:
    """`chromium --headless` as a script would run it: it captures at the page's `load`."""
    assert CHROMIUM is not None
    flags = [f for f in FLAGS if not f.startswith("--remote-debugging")]
    command = [CHROMIUM, *flags, f"--user-data-dir={profile}", "--window-size=900,600"]
    return subprocess.run([*command, *action, url], capture_output=True, timeout=60).stdout


def test_a_headless_snapshot_shows_the_data_not_connecting(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    vigil = vigil_process()
    admin, viewer = token(demo="admin"), token("vic", demo="viewer")
    points = [{"name": "cpu", "value": v, "tags": {"host": "web-1"}} for v in (12.0, 123.5)]
    graphql(vigil, admin, POINTS, {"points": points})
    dashboard_id = graphql(vigil, admin, CREATE, {"d": DOCUMENT})["createDashboard"]["id"]
    url = f"{vigil.url}/dashboards/{dashboard_id}?project=demo#token={viewer}"

    dom = headless(url, tmp_path / "one", "--dump-dom").decode()
    assert '<span id="status" class="status loaded">loaded</span>' in dom
    assert '<span>124</span><span class="unit"> %</span>' in dom  # drawn before `load`
    assert "<canvas" in dom  # and the chart

    picture = tmp_path / "snapshot.png"
    headless(url, tmp_path / "two", f"--screenshot={picture}")
    assert png_has_color(picture.read_bytes(), (255, 0, 0))  # the stat in its threshold red
    assert viewer not in vigil.log.read_text()  # the token still never reaches the server
