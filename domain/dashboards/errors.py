"""Errors of dashboards beyond the common tree of domain/errors.py."""

from __future__ import annotations

from domain.errors import VigilError

__all__ = ["DashboardConflict"]


class DashboardConflict(VigilError):
    """The dashboard changed since the version the caller read; nothing was written."""

    code = "CONFLICT"

    def __init__(self, dashboard_id: str, current_version: int) -> None:
        super().__init__(
            f"dashboard {dashboard_id!r} was changed by someone else (it is at version "
            f"{current_version}); reload it and apply your change again",
            current_version=current_version,
        )
