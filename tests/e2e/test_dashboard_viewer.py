"""The dashboard viewer in headless Chromium against a real `vigil serve`: the page loads,
the widgets render, and a point sent through the API appears on the chart without a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.dashboard_browser import CHROMIUM, open_page
from tests.support import token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)",
    ),
]

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
    ],
}


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
    vigil = vigil_process()
    admin, viewer = token(demo="admin"), token("vic", demo="viewer")
    points = [{"name": "cpu", "value": v, "tags": {"host": "web-1"}} for v in (12.0, 42.0)]
    graphql(vigil, admin, POINTS, {"points": points})
    dashboard_id = graphql(vigil, admin, CREATE, {"d": DOCUMENT})["createDashboard"]["id"]
    page_url = f"{vigil.url}/dashboards/{dashboard_id}?project=demo#token={viewer}"

    async with open_page(page_url, tmp_path / "profile") as page:
        await page.wait_for("window.vigilViewer && window.vigilViewer.status === 'live'")
        assert await page.evaluate("document.title") == "Browser test · Vigil"
        assert await page.evaluate("location.hash") == ""  # the token left the address bar
        await page.wait_for("document.querySelectorAll('.uplot canvas').length === 1")
        drawn = await page.evaluate("Array.from(vigilViewer.charts.cpu.data[1])")
        assert 42.0 in drawn
        peak = await page.evaluate("document.querySelector('[data-widget=peak] .stat').textContent")
        assert peak == "42.0 %"
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
