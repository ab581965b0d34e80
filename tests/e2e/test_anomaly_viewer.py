"""The dashboard viewer in headless Chromium draws a series' anomaly band and marks its
anomalies, against a real `vigil serve`: detection configured, a spike scored, the widget
with `anomalies: true` answered and drawn by uPlot."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.dashboards_browser import CHROMIUM, open_viewer
from tests.e2e.test_dashboards_viewer import CREATE, POINTS, graphql
from tests.support import token
from tests.tools import missing

pytestmark = [pytest.mark.e2e]

CONFIGURE = """mutation { configureAnomalyDetection(project: "demo", input: {metric: "lat"}) {
  id } }"""
DETECTORS = """query { anomalyDetections(project: "demo") { detectors { state } } }"""
ANOMALIES = (
    """query { anomalies(project: "demo", metric: "lat") { items { value explanation } } }"""
)
DOCUMENT: dict[str, Any] = {
    "name": "Anomalies",
    "timeRange": 3600,
    "widgets": [
        {
            "id": "lat",
            "kind": "TIMESERIES",
            "title": "Latency",
            "anomalies": True,
            "layout": {"x": 0, "y": 0, "w": 24, "h": 10},
            "queries": [{"metric": "lat", "aggregation": "MAX"}],
        }
    ],
}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if CHROMIUM is None:
        missing("chromium is not installed (apt-get install -y chromium)")


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_viewer_draws_the_band_and_marks_the_anomaly(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    vigil = vigil_process(VIGIL_ALERT_TICK_SECONDS="0.5")
    admin, viewer = token(demo="admin"), token("vic", demo="viewer")
    rng = random.Random(9)
    now = time.time()
    tags = {"host": "web-1"}
    history = [
        {"name": "lat", "value": round(100 + rng.gauss(0, 2), 3), "tags": tags,
         "timestamp": _iso(now - 1800 + i * 10)}
        for i in range(170)
    ]  # fmt: skip
    graphql(vigil, admin, POINTS, {"points": history})
    graphql(vigil, admin, CONFIGURE, {})
    graphql(vigil, admin, POINTS, {"points": [{"name": "lat", "value": 100.0, "tags": tags}]})

    def basic() -> bool:
        found = graphql(vigil, admin, DETECTORS, {})["anomalyDetections"][0]["detectors"]
        return bool(found) and found[0]["state"] == "BASIC"

    _until(basic, "the detector learned the history")
    graphql(vigil, admin, POINTS, {"points": [{"name": "lat", "value": 170.0, "tags": tags}]})
    (anomaly,) = _until(
        lambda: graphql(vigil, admin, ANOMALIES, {})["anomalies"]["items"], "the anomaly is stored"
    )
    assert anomaly["value"] == 170.0
    dashboard_id = graphql(vigil, admin, CREATE, {"d": DOCUMENT})["createDashboard"]["id"]

    async with open_viewer(vigil.url, dashboard_id, viewer, tmp_path / "profile") as page:
        await page.wait_for("vigilViewer.charts.lat && vigilViewer.charts.lat.bands.length === 1")
        labels = await page.evaluate("vigilViewer.charts.lat.series.map((s) => s.label)")
        assert labels[1:] == ["host=web-1", "host=web-1 upper", "host=web-1 lower", "anomalies"]
        data = await page.evaluate("vigilViewer.charts.lat.data.map((c) => Array.from(c))")
        upper, lower = data[2], data[3]
        edges = [(lo, hi) for lo, hi in zip(lower, upper, strict=True) if lo is not None]
        assert len(edges) >= 20  # half an hour of history: the band is there at once
        assert all(85 < lo < 100 < hi < 115 for lo, hi in edges)
        assert [v for v in data[4] if v is not None] == [170.0]  # the anomaly, marked
        band = "vigilViewer.charts.lat.bands[0].series"
        assert await page.evaluate(band) == [2, 3]
        assert page.errors == []
