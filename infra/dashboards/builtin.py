"""The built-in "Vigil system" dashboard over the `system` project, saved at first start.

Its widgets read what infra/selfmon.py records every interval; the names here must follow
that module's (a test checks each one is emitted).
"""

from __future__ import annotations

from typing import Any

from domain.access import SYSTEM_PROJECT
from domain.dashboards import Dashboard, read_spec
from domain.dashboards.handlers import ensure_dashboard
from domain.dashboards.ports import DashboardStore
from domain.ports import Clock

__all__ = ["SYSTEM_DASHBOARD_ID", "install_builtin_dashboards", "system_dashboard"]

SYSTEM_DASHBOARD_ID = "vigil-system"
BUILTIN_AUTHOR = "vigil"
_INSTANCE = [{"key": "instance", "op": "=~", "value": "$instance"}]


def _query(metric: str, aggregation: str = "last", **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "aggregation": aggregation, "matchers": _INSTANCE, **extra}


def _at(x: int, y: int, w: int, h: int) -> dict[str, int]:
    return {"x": x, "y": y, "w": w, "h": h}


SYSTEM_DOCUMENT: dict[str, Any] = {
    "name": "Vigil system",
    "description": "Vigil's own vitals, recorded into the system project by the self-monitor.",
    "timeRange": 3_600,
    "refresh": 10,
    "variables": [
        {"name": "instance", "tag": "instance", "metric": "vigil.process.cpu_percent"},
    ],
    "widgets": [
        {
            "kind": "stat",
            "title": "Requests per second",
            "layout": _at(0, 0, 6, 4),
            "queries": [_query("vigil.api.requests_total", rate=True)],
        },
        {
            "kind": "stat",
            "title": "Points ingested per second",
            "layout": _at(6, 0, 6, 4),
            "queries": [_query("vigil.ingest.points_per_second")],
        },
        {
            "kind": "stat",
            "title": "Websockets",
            "layout": _at(12, 0, 6, 4),
            # The latest report (a sum would add every report of the range together).
            "queries": [_query("vigil.ws.connections")],
        },
        {
            "kind": "gauge",
            "title": "CPU",
            "unit": "%",
            "layout": _at(18, 0, 6, 4),
            "queries": [_query("vigil.process.cpu_percent")],
            "min": 0,
            "max": 100,
            "thresholds": [
                {"value": None, "color": "green"},
                {"value": 70, "color": "orange"},
                {"value": 90, "color": "red"},
            ],
        },
        {
            "kind": "timeseries",
            "title": "Request latency",
            "unit": "ms",
            "layout": _at(0, 4, 12, 8),
            "queries": [_query("vigil.api.latency_ms", "max", groupBy=["stat"])],
        },
        {
            "kind": "timeseries",
            "title": "Errors per second, by code",
            "layout": _at(12, 4, 12, 8),
            "queries": [_query("vigil.api.errors_total", rate=True, groupBy=["code"])],
        },
        {
            "kind": "timeseries",
            "title": "Ingest rate",
            "unit": "points/s",
            "layout": _at(0, 12, 12, 8),
            "queries": [_query("vigil.ingest.points_per_second", "avg", groupBy=["instance"])],
        },
        {
            "kind": "timeseries",
            "title": "Websockets and subscriptions",
            "layout": _at(12, 12, 12, 8),
            "queries": [
                _query("vigil.ws.connections", label="connections", groupBy=["instance"]),
                _query("vigil.ws.subscriptions", label="subscriptions", groupBy=["instance"]),
            ],
        },
        {
            "kind": "timeseries",
            "title": "CPU",
            "unit": "%",
            "layout": _at(0, 20, 12, 8),
            "queries": [_query("vigil.process.cpu_percent", "avg", groupBy=["instance"])],
        },
        {
            "kind": "timeseries",
            "title": "Memory (resident)",
            "unit": "bytes",
            "layout": _at(12, 20, 12, 8),
            "queries": [_query("vigil.process.memory_rss_bytes", groupBy=["instance"])],
        },
        {
            "kind": "alertList",
            "title": "Alerts of the system project",
            "layout": _at(0, 28, 12, 6),
        },
        {
            "kind": "text",
            "title": "About",
            "layout": _at(12, 28, 12, 6),
            "text": (
                "Vigil records these points every `VIGIL_SELF_MONITOR_SECONDS` (10 s by "
                "default).\n\nPick an **instance** to see one process; `*` shows them all. "
                "See `docs/metrics.md` for every metric."
            ),
        },
    ],
}


def system_dashboard(now_us: int) -> Dashboard:
    return Dashboard(
        id=SYSTEM_DASHBOARD_ID,
        project=SYSTEM_PROJECT,
        spec=read_spec(SYSTEM_DOCUMENT),
        created_at_us=now_us,
        created_by=BUILTIN_AUTHOR,
    )


async def install_builtin_dashboards(dashboards: DashboardStore, clock: Clock) -> bool:
    """Save the built-in dashboards that do not exist yet (a user's changes to them stay);
    True if one was saved now."""
    return await ensure_dashboard(dashboards, system_dashboard(clock.now_us()))
