"""DashboardStore in memory: the default of Services (a process that wires no store keeps
its dashboards until it exits) and the store of unit tests. Passes the store contract."""

from __future__ import annotations

from domain.dashboards.dashboard import Dashboard

__all__ = ["MemoryDashboardStore"]


class MemoryDashboardStore:
    def __init__(self) -> None:
        # (project, id) -> every saved version, oldest first; the last one is current
        self._versions: dict[tuple[str, str], list[Dashboard]] = {}

    async def save_dashboard(
        self, dashboard: Dashboard, *, expected_version: int | None = None
    ) -> bool:
        key = (dashboard.project, dashboard.id)
        versions = self._versions.get(key)
        if expected_version is None:
            if versions is not None:
                return False
            self._versions[key] = [dashboard]
            return True
        if versions is None or versions[-1].version != expected_version:
            return False
        versions.append(dashboard)
        return True

    async def get_dashboard(self, project: str, dashboard_id: str) -> Dashboard | None:
        versions = self._versions.get((project, dashboard_id))
        return versions[-1] if versions else None

    async def list_dashboards(self, project: str) -> list[Dashboard]:
        found = [v[-1] for (p, _), v in self._versions.items() if p == project]
        return sorted(found, key=lambda d: (d.created_at_us, d.id))

    async def delete_dashboard(self, project: str, dashboard_id: str) -> bool:
        return self._versions.pop((project, dashboard_id), None) is not None

    async def list_versions(
        self, project: str, dashboard_id: str, *, first: int = 100
    ) -> list[Dashboard]:
        versions = self._versions.get((project, dashboard_id), [])
        return sorted(versions, key=lambda d: -d.version)[: max(first, 0)]

    async def get_version(self, project: str, dashboard_id: str, version: int) -> Dashboard | None:
        versions = self._versions.get((project, dashboard_id), [])
        return next((d for d in versions if d.version == version), None)
