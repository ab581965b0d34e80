"""Incidents changed by alert events, as pure functions of (incident, event): who joins,
what a member's move does to the incident's state, root and title."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from domain.incidents.grouping import duplicate_of, related, root_of, title_of
from domain.incidents.model import (
    Incident,
    IncidentSettings,
    IncidentState,
    Member,
    MemberState,
    TimelineEntry,
)

__all__ = ["join", "merge", "move_member", "open_incident", "settle", "with_members"]

MAX_TIMELINE = 500  # entries kept per incident (the oldest go first)


def open_incident(project: str, member: Member, now_us: int) -> Incident:
    where = _where(member)
    return settle(
        Incident(
            id=uuid.uuid4().hex,
            project=project,
            state=IncidentState.OPEN,
            title="",
            opened_us=now_us,
            updated_us=now_us,
            root=member.instance_id,
            members=(member,),
            timeline=(
                TimelineEntry(
                    now_us, f"opened: {member.alert_name} fired{where}", member.instance_id
                ),
            ),
        ),
        IncidentSettings(),
    )


def join(
    candidates: Sequence[Incident], member: Member, settings: IncidentSettings, now_us: int
) -> Incident | None:
    """The open incident `member` joins (with it added), or None: it opens its own."""
    fitting = [
        i
        for i in candidates
        if i.state is not IncidentState.RESOLVED
        and now_us - i.last_fired_us <= settings.window_us
        and related(i, member, settings)
    ]
    if not fitting:
        return None
    incident = max(fitting, key=lambda i: (i.updated_us, i.id))
    twin = duplicate_of(incident.members, member)
    member = replace(member, duplicate_of=twin)
    if twin is not None:
        text = f"{member.alert_name} fired{_where(member)}: a duplicate of {_name(incident, twin)}"
    else:
        text = f"{member.alert_name} fired{_where(member)}"
    entry = TimelineEntry(now_us, text, member.instance_id)
    return with_members(incident, [*incident.members, member], settings, entry, now_us)


def move_member(
    incident: Incident,
    instance_id: str,
    state: MemberState,
    text: str,
    settings: IncidentSettings,
    now_us: int,
    *,
    by: str = "",
    severity: str | None = None,
) -> Incident:
    members = [
        replace(
            m,
            state=state,
            changed_us=now_us,
            severity=severity if severity is not None else m.severity,
            fired_us=now_us
            if state is MemberState.FIRING and m.state is MemberState.RESOLVED
            else m.fired_us,
        )
        if m.instance_id == instance_id
        else m
        for m in incident.members
    ]
    return with_members(
        incident, members, settings, TimelineEntry(now_us, text, instance_id, by), now_us
    )


def with_members(
    incident: Incident,
    members: Sequence[Member],
    settings: IncidentSettings,
    entry: TimelineEntry | None,
    now_us: int,
) -> Incident:
    timeline = incident.timeline + ((entry,) if entry is not None else ())
    changed = replace(
        incident,
        members=tuple(members),
        timeline=timeline[-MAX_TIMELINE:],
        updated_us=now_us,
    )
    return settle(changed, settings)


def settle(incident: Incident, settings: IncidentSettings) -> Incident:
    """State, root and title from the members: resolved when every member is (or by hand,
    which sticks), acknowledged when every unresolved one is, else open."""
    members = incident.members
    root = root_of(members, settings)
    state = incident.state
    if state is not IncidentState.RESOLVED:
        live = [m for m in members if m.state is not MemberState.RESOLVED]
        if not live:
            state = IncidentState.RESOLVED
        elif all(m.state is MemberState.ACKNOWLEDGED for m in live):
            state = IncidentState.ACKNOWLEDGED
        else:
            state = IncidentState.OPEN
    resolved = incident.resolved_us
    if state is IncidentState.RESOLVED and resolved is None:
        resolved = incident.updated_us
    return replace(
        incident, state=state, root=root, title=title_of(members, root), resolved_us=resolved
    )


def merge(stored: Incident, mine: Incident, since: int, settings: IncidentSettings) -> Incident:
    """This process's changes (members and timeline entries changed after `since`) laid
    over the stored incident another process changed meanwhile."""
    members = {m.instance_id: m for m in stored.members}
    for m in mine.members:
        theirs = members.get(m.instance_id)
        if theirs is None or (m.changed_us > since and m.changed_us >= theirs.changed_us):
            members[m.instance_id] = m
    known = {(t.at_us, t.text) for t in stored.timeline}
    added = tuple(t for t in mine.timeline if t.at_us > since and (t.at_us, t.text) not in known)
    state = stored.state
    if mine.state is IncidentState.RESOLVED and mine.updated_us > since:
        state = IncidentState.RESOLVED
    merged = replace(
        stored,
        state=state,
        members=tuple(members.values()),
        timeline=(stored.timeline + added)[-MAX_TIMELINE:],
        updated_us=max(stored.updated_us, mine.updated_us),
        resolved_us=stored.resolved_us
        or (mine.resolved_us if state is IncidentState.RESOLVED else None),
    )
    return settle(merged, settings)


def _where(member: Member) -> str:
    if not member.tags:
        return ""
    return " on " + ", ".join(f"{k}={v}" for k, v in sorted(member.tags.items()))


def _name(incident: Incident, instance_id: str) -> str:
    found = incident.member(instance_id)
    return found.alert_name if found else instance_id
