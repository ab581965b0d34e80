"""What incidents need from a store."""

from __future__ import annotations

from typing import Protocol

from domain.incidents.model import Incident, IncidentSettings, IncidentState

__all__ = ["IncidentStore"]


class IncidentStore(Protocol):
    async def save_incident(self, incident: Incident, *, expected_version: int | None) -> bool:
        """Insert (`expected_version` None: only if the id is new) or replace the version
        read (False, nothing written, if another process changed it since)."""
        ...

    async def get_incident(self, project: str, incident_id: str) -> Incident | None: ...

    async def list_incidents(
        self,
        project: str,
        *,
        state: IncidentState | None = None,
        before: tuple[int, str] | None = None,
        first: int = 100,
    ) -> list[Incident]:
        """Newest first (opened time, then id, descending), strictly before `before`."""
        ...

    async def open_incidents(self, project: str) -> list[Incident]:
        """Every incident of the project that is not resolved."""
        ...

    async def get_incident_settings(self, project: str) -> IncidentSettings | None: ...

    async def save_incident_settings(self, project: str, settings: IncidentSettings) -> None: ...
