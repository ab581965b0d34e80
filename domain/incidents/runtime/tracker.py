"""IncidentTracker: groups the alert events this process publishes into incidents.

It hears each alert event before the notification router does (the routing table's
order) and decides at once, in memory, which incident the alert belongs to and whether it
duplicates a member: the router asks `labels` for that (an `incident` label, so a route
grouping by it sends one message per incident; None for a duplicate, which notifies
nothing). Changes are written shortly after by a background task with a compare-and-set
on the incident's version; a change another process made meanwhile is merged, then
`IncidentUpdatedEvent` is published. The open incidents of a project are re-read from the
store every REFRESH_US, so incidents opened by other processes are joined too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
)
from domain.alerting.model import Reason
from domain.incidents.changes import join, merge, move_member, open_incident
from domain.incidents.events import IncidentUpdatedEvent
from domain.incidents.model import (
    Incident,
    IncidentSettings,
    IncidentState,
    Member,
    MemberState,
    TimelineEntry,
)
from domain.incidents.ports import IncidentStore
from domain.ports import Clock, EventPublisher

__all__ = ["IncidentTracker"]

logger = logging.getLogger("vigil.incidents")

REFRESH_US = 10_000_000  # open incidents and settings re-read from the store this often
WRITE_DELAY_SECONDS = 0.05  # changes gathered before a write
MAX_MERGES = 5
_SEVERITY = (Reason.SEVERITY_RAISED.value, Reason.SEVERITY_LOWERED.value)


class IncidentTracker:
    def __init__(self, store: IncidentStore, clock: Clock, publisher: EventPublisher) -> None:
        self._store = store
        self._clock = clock
        self._publisher = publisher
        self._open: dict[str, dict[str, Incident]] = {}  # project -> id -> incident
        self._read_us: dict[str, int] = {}
        self._settings: dict[str, IncidentSettings] = {}
        self._stored: dict[str, Incident | None] = {}  # as last read or written
        self._dirty: dict[str, tuple[Incident, int, str]] = {}  # id -> (mine, since, change)
        self._labels: dict[tuple[str, str], str | None] = {}  # instance -> incident (None: dup)
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- alert events ------------------------------------------------------------------------

    async def on_alert_event(self, event: AlertEvent) -> None:
        async with self._lock:
            await self._view(event.project)
            now = self._clock.now_us()
            if isinstance(event, AlertTriggeredEvent):
                self._fired(event, now)
            elif isinstance(event, AlertResolvedEvent):
                self._member(
                    event, MemberState.RESOLVED, f"{event.rule_name} resolved ({event.reason})", now
                )
            elif isinstance(event, AlertAcknowledgedEvent):
                text = f"{event.rule_name} acknowledged" + (f" by {event.by}" if event.by else "")
                self._member(event, MemberState.ACKNOWLEDGED, text, now, by=event.by)
        self._start_writer()

    def labels(self, event: AlertEvent) -> dict[str, str] | None:
        """The router's extra labels for an alert: its incident; None for a duplicate."""
        key = (event.project, event.instance_id)
        if key not in self._labels:
            return {}
        incident = self._labels[key]
        return None if incident is None else {"incident": incident}

    def _fired(self, event: AlertTriggeredEvent, now: int) -> None:
        incidents = self._open.setdefault(event.project, {})
        current = self._find(event.project, event.instance_id)
        if current is not None:
            member = current.member(event.instance_id)
            assert member is not None
            severity_change = event.reason in _SEVERITY
            text = (
                f"{event.rule_name}: {event.reason} to {event.severity}"
                if severity_change
                else f"{event.rule_name} fired again ({event.reason})"
            )
            changed = move_member(
                current,
                event.instance_id,
                MemberState.FIRING,
                text,
                self._settings_of(event.project),
                now,
                severity=event.severity,
            )
            self._changed(changed, text)
            return
        member = Member(
            alert_id=event.rule_id,
            alert_name=event.rule_name,
            instance_id=event.instance_id,
            tags=dict(event.tags),
            metric=event.metric,
            series=dict(event.series if event.series is not None else event.tags),
            direction=event.direction,
            severity=event.severity,
            state=MemberState.FIRING,
            fired_us=now,
            changed_us=now,
        )
        settings = self._settings_of(event.project)
        joined = join(list(incidents.values()), member, settings, now)
        if joined is None:
            joined = open_incident(event.project, member, now)
            self._stored[joined.id] = None
            change = "opened"
        else:
            change = f"{member.alert_name} joined"
        incidents[joined.id] = joined
        self._changed(joined, change)

    def _member(
        self, event: AlertEvent, state: MemberState, text: str, now: int, *, by: str = ""
    ) -> None:
        current = self._find(event.project, event.instance_id)
        if current is None:
            return
        changed = move_member(
            current, event.instance_id, state, text, self._settings_of(event.project), now, by=by
        )
        self._changed(changed, text)

    # -- incident-level moves (the command handlers) -----------------------------------------

    async def mark(
        self, project: str, incident_id: str, state: IncidentState, text: str, by: str
    ) -> Incident | None:
        """Record an acknowledgement or resolution made at incident level, write it now."""
        async with self._lock:
            await self._view(project)
            current = self._open.get(project, {}).get(incident_id)
            if current is None:
                current = await self._store.get_incident(project, incident_id)
                if current is None:
                    return None
                self._stored[incident_id] = current
            now = self._clock.now_us()
            entry = TimelineEntry(now, text, "", by)
            changed = current.changed(
                state=state,
                updated_us=now,
                timeline=(*current.timeline, entry),
                resolved_us=now if state is IncidentState.RESOLVED else current.resolved_us,
            )
            self._changed(changed, text)
        await self.flush()
        return await self._store.get_incident(project, incident_id)

    # -- the in-memory view and the writer ---------------------------------------------------

    async def _view(self, project: str) -> None:
        now = self._clock.now_us()
        if now - self._read_us.get(project, -REFRESH_US) < REFRESH_US:
            return
        self._read_us[project] = now
        try:
            settings = await self._store.get_incident_settings(project)
            found = await self._store.open_incidents(project)
        except Exception:  # grouping goes on from what is known
            logger.exception("reading the open incidents of %s failed", project)
            return
        self._settings[project] = settings or IncidentSettings()
        view = self._open.setdefault(project, {})
        for incident in found:
            if incident.id not in self._dirty:
                view[incident.id] = incident
                self._stored[incident.id] = incident
                for m in incident.members:
                    self._labels[(project, m.instance_id)] = None if m.duplicate_of else incident.id

    def settings_changed(self, project: str, settings: IncidentSettings) -> None:
        self._settings[project] = settings

    def _settings_of(self, project: str) -> IncidentSettings:
        return self._settings.get(project) or IncidentSettings()

    def _find(self, project: str, instance_id: str) -> Incident | None:
        for incident in self._open.get(project, {}).values():
            if incident.member(instance_id) is not None:
                return incident
        return None

    def _changed(self, incident: Incident, change: str) -> None:
        project = incident.project
        stored = self._stored.get(incident.id)
        since = stored.updated_us if stored is not None else -1
        known = self._dirty.get(incident.id)
        if known is not None:
            since = known[1]
        self._dirty[incident.id] = (incident, since, change)
        view = self._open.setdefault(project, {})
        if incident.state is IncidentState.RESOLVED:
            view.pop(incident.id, None)
        else:
            view[incident.id] = incident
        for m in incident.members:
            self._labels[(project, m.instance_id)] = None if m.duplicate_of else incident.id

    def _start_writer(self) -> None:
        if self._dirty and (self._writer is None or self._writer.done()):
            self._writer = asyncio.ensure_future(self._write_soon())

    async def _write_soon(self) -> None:
        await asyncio.sleep(WRITE_DELAY_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write every changed incident, merging what other processes wrote meanwhile."""
        while self._dirty:
            incident_id, (mine, since, change) = next(iter(self._dirty.items()))
            del self._dirty[incident_id]
            try:
                written = await self._write(mine, since)
            except BaseException as exc:  # kept for the next write (a cancelled one too)
                self._dirty.setdefault(incident_id, (mine, since, change))
                if not isinstance(exc, Exception):
                    raise
                logger.exception("writing incident %s failed; retried", incident_id)
                await asyncio.sleep(1.0)
                continue
            if written is None:
                continue
            await self._publisher.publish(
                IncidentUpdatedEvent(
                    project=written.project,
                    incident_id=written.id,
                    state=written.state.value,
                    title=written.title,
                    change=change,
                    root=written.root,
                    members=len(written.members),
                    at_us=written.updated_us,
                    version=written.version,
                )
            )

    async def _write(self, mine: Incident, since: int) -> Incident | None:
        settings = self._settings_of(mine.project)
        stored = self._stored.get(mine.id)
        for _ in range(MAX_MERGES):
            if stored is None:
                if await self._store.save_incident(mine, expected_version=None):
                    self._stored[mine.id] = mine
                    return mine
            else:
                candidate = merge(stored, mine, since, settings).changed()
                if await self._store.save_incident(candidate, expected_version=stored.version):
                    self._stored[mine.id] = candidate
                    self._replace(candidate)
                    return candidate
            stored = await self._store.get_incident(mine.project, mine.id)
        logger.error("incident %s kept changing under this process; change dropped", mine.id)
        return None

    def _replace(self, incident: Incident) -> None:
        view = self._open.setdefault(incident.project, {})
        if incident.id in view and incident.id not in self._dirty:
            if incident.state is IncidentState.RESOLVED:
                del view[incident.id]
            else:
                view[incident.id] = incident

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        with contextlib.suppress(Exception):
            await self.flush()
