"""Read models of incidents."""

from __future__ import annotations

from domain.incidents.model import Incident, IncidentSettings
from domain.paging import Page

__all__ = ["IncidentDto", "IncidentPage", "IncidentSettingsDto"]

IncidentDto = Incident
IncidentPage = Page[Incident]
IncidentSettingsDto = IncidentSettings
