"""Incident handlers: alert events grouped as they are published, and the moves a user
makes on a whole incident (carried out on each member alert by the alert runtime)."""

from __future__ import annotations

from domain.alerting.events import AlertEvent
from domain.alerting.ports import AlertRuntime, AlertStore
from domain.durations import MAX_DURATION_US
from domain.errors import BadUserInput, NotFound, VigilError
from domain.events import Event
from domain.incidents.commands import (
    AcknowledgeIncidentCommand,
    ConfigureIncidentsCommand,
    ResolveIncidentCommand,
)
from domain.incidents.model import Incident, IncidentSettings, IncidentState, MemberState
from domain.incidents.ports import IncidentStore
from domain.incidents.runtime import IncidentTracker

__all__ = [
    "acknowledge_incident",
    "configure_incidents",
    "resolve_incident",
    "track_alert_event",
]

MAX_DEPENDENCIES = 500
MAX_COMMENT = 2_000


async def track_alert_event(event: AlertEvent, *, incident_tracker: IncidentTracker) -> None:
    """Every alert event this process publishes, before the notification router sees it."""
    await incident_tracker.on_alert_event(event)


async def acknowledge_incident(
    command: AcknowledgeIncidentCommand,
    events: list[Event],
    *,
    incidents: IncidentStore,
    incident_tracker: IncidentTracker,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
) -> Incident:
    """Every firing member acknowledged (as acknowledgeAlert would), then the incident."""
    incident = await _find(incidents, command.project, command.incident_id)
    if incident.state is IncidentState.RESOLVED:
        raise BadUserInput("the incident is resolved: nothing to acknowledge")
    _comment(command.comment)
    for member in incident.members:
        if member.state is not MemberState.FIRING:
            continue
        alert = await alerts.get_alert(command.project, member.alert_id)
        if alert is None or not alert.enabled:
            continue
        key = alert.rule.group_of(member.tags)
        try:
            await alert_runtime.acknowledge(
                alert, key, by=command.actor, comment=command.comment, until_us=command.until_us
            )
        except VigilError as exc:  # moved on meanwhile (resolved, ...): the others still go
            if exc.code == "UNAVAILABLE":
                raise
    text = f"incident acknowledged by {command.actor or 'someone'}"
    found = await incident_tracker.mark(
        command.project, incident.id, IncidentState.ACKNOWLEDGED, text, command.actor
    )
    return found or incident


async def resolve_incident(
    command: ResolveIncidentCommand,
    events: list[Event],
    *,
    incidents: IncidentStore,
    incident_tracker: IncidentTracker,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
) -> Incident:
    """Every member that is not resolved resolved by hand, then the incident: an alert
    whose condition still holds fires again and opens a new incident."""
    incident = await _find(incidents, command.project, command.incident_id)
    if incident.state is IncidentState.RESOLVED:
        raise BadUserInput("the incident is resolved already")
    _comment(command.comment)
    for member in incident.members:
        if member.state is MemberState.RESOLVED:
            continue
        alert = await alerts.get_alert(command.project, member.alert_id)
        if alert is None or not alert.enabled:
            continue
        try:
            await alert_runtime.resolve(
                alert, alert.rule.group_of(member.tags), by=command.actor, comment=command.comment
            )
        except VigilError as exc:
            if exc.code == "UNAVAILABLE":
                raise
    text = f"incident resolved by {command.actor or 'someone'}"
    found = await incident_tracker.mark(
        command.project, incident.id, IncidentState.RESOLVED, text, command.actor
    )
    return found or incident


async def configure_incidents(
    command: ConfigureIncidentsCommand,
    events: list[Event],
    *,
    incidents: IncidentStore,
    incident_tracker: IncidentTracker,
) -> IncidentSettings:
    if not 0 < command.window_us <= MAX_DURATION_US:
        raise BadUserInput("window must be positive")
    if len(command.dependencies) > MAX_DEPENDENCIES:
        raise BadUserInput(f"at most {MAX_DEPENDENCIES} dependencies")
    if not command.dependency_tag:
        raise BadUserInput("dependencyTag must name a tag")
    for d in command.dependencies:
        if not d.service or not d.depends_on or d.service == d.depends_on:
            raise BadUserInput("a dependency links two different services")
    current = await incidents.get_incident_settings(command.project)
    settings = IncidentSettings(
        window_us=command.window_us,
        tags=command.tags,
        dependency_tag=command.dependency_tag,
        dependencies=command.dependencies,
        version=(current.version if current else 0) + 1,
    )
    await incidents.save_incident_settings(command.project, settings)
    incident_tracker.settings_changed(command.project, settings)
    return settings


async def _find(incidents: IncidentStore, project: str, incident_id: str) -> Incident:
    found = await incidents.get_incident(project, incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id!r} in project {project!r}")
    return found


def _comment(comment: str) -> None:
    if len(comment) > MAX_COMMENT:
        raise BadUserInput(f"a comment holds at most {MAX_COMMENT} characters")
