"""The dashboard viewer in headless Chromium draws a line's forecast past the range in its
80% and 95% bands and marks the change point, against a real `vigil serve` whose worker
processes fit them (issue 14, dashboards)."""

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

MINUTES, SHIFT_AT, HORIZON = 180, 90, 20
DOCUMENT: dict[str, Any] = {
    "name": "Overlays",
    "timeRange": "3h",
    "widgets": [
        {
            "id": "lat",
            "kind": "TIMESERIES",
            "title": "Latency",
            "forecast": f"{HORIZON}m",
            "changePoints": True,
            "layout": {"x": 0, "y": 0, "w": 24, "h": 10},
            "queries": [{"metric": "lat", "aggregation": "AVG", "step": 60}],
        }
    ],
}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if CHROMIUM is None:
        missing("chromium is not installed (apt-get install -y chromium)")


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


async def test_the_viewer_draws_the_forecast_and_marks_the_shift(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    # the first fit waits for the worker pool to start: a deadline well past that
    vigil = vigil_process(VIGIL_ANALYTICS_SYNC_TIMEOUT_SECONDS="60", VIGIL_ANALYTICS_WORKERS="1")
    admin, viewer = token(demo="admin"), token("vic", demo="viewer")
    rng = random.Random(11)
    start = (time.time() // 60 - MINUTES) * 60
    history = [
        {"name": "lat", "value": round((50 if i < SHIFT_AT else 80) + rng.gauss(0, 1), 3),
         "tags": {"host": "web-1"}, "timestamp": _iso(start + i * 60)}
        for i in range(MINUTES)
    ]  # fmt: skip
    graphql(vigil, admin, POINTS, {"points": history})
    dashboard_id = graphql(vigil, admin, CREATE, {"d": DOCUMENT})["createDashboard"]["id"]

    async with open_viewer(vigil.url, dashboard_id, viewer, tmp_path / "profile") as page:
        await page.wait_for("vigilViewer.charts.lat && vigilViewer.charts.lat.bands.length === 2")
        labels = await page.evaluate("vigilViewer.charts.lat.series.map((s) => s.label)")
        line = "host=web-1"
        assert labels[1:] == [
            line,
            f"{line} forecast",
            f"{line} upper 95%",
            f"{line} lower 95%",
            f"{line} upper 80%",
            f"{line} lower 80%",
            "changes",
        ]
        assert await page.evaluate("vigilViewer.charts.lat.bands.map((b) => b.series)") == [
            [3, 4],
            [5, 6],
        ]
        data = await page.evaluate("vigilViewer.charts.lat.data.map((c) => Array.from(c))")
        times, values, mean, changes = data[0], data[1], data[2], data[7]
        ahead = mean[-HORIZON:]  # the axis goes on past now by the horizon
        assert all(m is not None and 75 < m < 85 for m in ahead), ahead  # after the shift
        assert all(m is None for m in mean[:-HORIZON])
        assert all(v is None for v in values[-HORIZON:])
        assert times[-1] - times[-HORIZON - 1] == HORIZON * 60
        (shift,) = [t for t, c in zip(times, changes, strict=True) if c is not None]
        assert abs(shift - (start + SHIFT_AT * 60)) <= 120
        legend = await page.evaluate(
            "Array.from(document.querySelectorAll('.u-legend .u-label')).map((e) => e.textContent)"
        )
        assert "changes" in legend
        assert page.errors == []
