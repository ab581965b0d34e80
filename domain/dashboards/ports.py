"""What dashboards need from a store: dashboards and every version of each."""

from __future__ import annotations

from typing import Protocol

from domain.dashboards.dashboard import Dashboard

__all__ = ["DashboardStore"]


class DashboardStore(Protocol):
    """Every method is scoped by project: a foreign id answers exactly as a missing one."""

    async def save_dashboard(
        self, dashboard: Dashboard, *, expected_version: int | None = None
    ) -> bool:
        """Without `expected_version`: insert a new dashboard, False (nothing written) if
        the project already has that id. With it: replace the stored dashboard only if it
        is at that version, False otherwise. A saved dashboard's version is also kept in
        its history, atomically with the save as seen by other writers."""
        ...

    async def get_dashboard(self, project: str, dashboard_id: str) -> Dashboard | None: ...

    async def list_dashboards(self, project: str) -> list[Dashboard]:
        """The project's dashboards, oldest first."""
        ...

    async def delete_dashboard(self, project: str, dashboard_id: str) -> bool:
        """Remove the dashboard and its history; False if there was none."""
        ...

    async def list_versions(
        self, project: str, dashboard_id: str, *, first: int = 100
    ) -> list[Dashboard]:
        """The dashboard as saved at each version, newest first."""
        ...

    async def get_version(
        self, project: str, dashboard_id: str, version: int
    ) -> Dashboard | None: ...
