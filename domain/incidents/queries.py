"""Incident queries."""

from __future__ import annotations

from dataclasses import dataclass

from domain.incidents.model import IncidentState
from domain.queries import Query

__all__ = ["GetIncidentQuery", "GetIncidentSettingsQuery", "ListIncidentsQuery"]


@dataclass(frozen=True, slots=True)
class ListIncidentsQuery(Query):
    """Newest first; `after` is the id of the last incident seen."""

    project: str
    state: IncidentState | None = None
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class GetIncidentQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class GetIncidentSettingsQuery(Query):
    project: str
