"""Dashboards at the edge: the built-in dashboards and the read-only viewer page."""

from infra.dashboards.builtin import (
    SYSTEM_DASHBOARD_ID,
    install_builtin_dashboards,
    system_dashboard,
)
from infra.dashboards.viewer import viewer_routes

__all__ = [
    "SYSTEM_DASHBOARD_ID",
    "install_builtin_dashboards",
    "system_dashboard",
    "viewer_routes",
]
