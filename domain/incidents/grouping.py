"""Which incident an alert joins, its root candidate, and duplicates: pure rules.

An alert that fires joins an open incident whose last member fired within the window when
it shares a value of one of the grouping tags with a member (`series`: the instance's tags
and its rule's equality matchers), or when their services are linked by a declared
dependency (either way, also through other services). The root candidate is the member
whose service the others depend on (upstream), else the first to fire. A member on the
same series, metric and direction as a firing member duplicates it: it notifies nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from domain.incidents.model import Incident, IncidentSettings, Member, MemberState

__all__ = ["duplicate_of", "related", "root_of", "title_of", "upstream"]


def upstream(settings: IncidentSettings) -> dict[str, set[str]]:
    """Every service each service depends on, directly or through others."""
    direct: dict[str, set[str]] = {}
    for d in settings.dependencies:
        direct.setdefault(d.service, set()).add(d.depends_on)
    closed: dict[str, set[str]] = {}
    for service in direct:
        seen: set[str] = set()
        todo = list(direct[service])
        while todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                todo += direct.get(nxt, ())
        closed[service] = seen
    return closed


def related(incident: Incident, member: Member, settings: IncidentSettings) -> bool:
    keys = settings.tags
    mine = _shared(member.series, keys)
    deps = upstream(settings)
    service = member.series.get(settings.dependency_tag)
    for other in incident.members:
        if mine & _shared(other.series, keys):
            return True
        theirs = other.series.get(settings.dependency_tag)
        if (
            service
            and theirs
            and (theirs in deps.get(service, ()) or service in deps.get(theirs, ()))
        ):
            return True
    return False


def root_of(members: Sequence[Member], settings: IncidentSettings) -> str:
    """The instance id of the root candidate."""
    deps = upstream(settings)
    tag = settings.dependency_tag
    services = {s for m in members if (s := m.series.get(tag))}
    candidates = [m for m in members if m.duplicate_of is None] or list(members)
    if deps and services:
        # Upstream of every other service present: depended on, depending on none present.
        roots = [
            m
            for m in candidates
            if (s := m.series.get(tag))
            and not (deps.get(s, set()) & services)
            and any(s in deps.get(other, ()) for other in services if other != s)
        ]
        if roots:
            return min(roots, key=lambda m: (m.fired_us, m.instance_id)).instance_id
    return min(candidates, key=lambda m: (m.fired_us, m.instance_id)).instance_id


def duplicate_of(members: Iterable[Member], member: Member) -> str | None:
    """The firing member that `member` repeats (same metric, series and direction)."""
    for other in members:
        if (
            other.instance_id != member.instance_id
            and other.duplicate_of is None
            and other.state is not MemberState.RESOLVED
            and other.metric == member.metric
            and dict(other.series) == dict(member.series)
            and (
                other.direction == member.direction or "any" in (other.direction, member.direction)
            )
        ):
            return other.instance_id
    return None


def title_of(members: Sequence[Member], root: str) -> str:
    first = next((m for m in members if m.instance_id == root), members[0])
    where = ", ".join(f"{k}={v}" for k, v in sorted(first.tags.items()))
    text = f"{first.alert_name}" + (f" on {where}" if where else "")
    others = sum(1 for m in members if m.instance_id != root)
    return text + (f" (+{others} more)" if others else "")


def _shared(series: Mapping[str, str], keys: tuple[str, ...] | None) -> set[tuple[str, str]]:
    return {(k, v) for k, v in series.items() if v and (keys is None or k in keys)}
