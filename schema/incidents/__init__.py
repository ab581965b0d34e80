"""Incident types, inputs and live messages of the GraphQL schema."""

from schema.incidents.types import (
    Incident,
    IncidentConnection,
    IncidentDependencyInput,
    IncidentMember,
    IncidentSettings,
    IncidentSettingsInput,
    IncidentState,
    IncidentUpdated,
    MemberState,
    TimelineEntry,
)

__all__ = [
    "Incident",
    "IncidentConnection",
    "IncidentDependencyInput",
    "IncidentMember",
    "IncidentSettings",
    "IncidentSettingsInput",
    "IncidentState",
    "IncidentUpdated",
    "MemberState",
    "TimelineEntry",
]
