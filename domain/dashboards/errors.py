"""Errors of dashboards beyond the common tree of domain/errors.py."""

from __future__ import annotations

from domain.errors import Conflict

__all__ = ["DashboardConflict"]


class DashboardConflict(Conflict):
    """The dashboard changed since the version the caller read; nothing was written."""

    def __init__(self, dashboard_id: str, current_version: int) -> None:
        super().__init__(f"dashboard {dashboard_id!r}", current_version)
