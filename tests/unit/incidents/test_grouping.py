"""Incident grouping rules: who joins, the root candidate, duplicates, states, merges."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.incidents.changes import join, merge, move_member, open_incident
from domain.incidents.model import (
    Dependency,
    IncidentSettings,
    IncidentState,
    Member,
    MemberState,
)

M = 60_000_000
DEPS = IncidentSettings(dependencies=(Dependency("web", "api"), Dependency("api", "db")))


def member(name: str, at_min: int, **fields: Any) -> Member:
    tags = fields.pop("tags", {"host": "web-1"})
    base: dict[str, Any] = {
        "alert_id": name,
        "alert_name": name,
        "instance_id": f"i-{name}",
        "tags": tags,
        "metric": name,
        "series": tags,
        "direction": "up",
        "severity": "critical",
        "state": MemberState.FIRING,
        "fired_us": at_min * M,
        "changed_us": at_min * M,
    }
    return Member(**(base | fields))


def test_alerts_close_in_time_sharing_a_tag_join_and_others_do_not() -> None:
    opened = open_incident("p", member("cpu", 0), 0)
    settings = IncidentSettings()
    joined = join([opened], member("errors", 3), settings, 3 * M)
    assert joined is not None and [m.alert_name for m in joined.members] == ["cpu", "errors"]
    assert join([opened], member("disk", 3, tags={"host": "db-1"}), settings, 3 * M) is None
    assert join([opened], member("late", 6), settings, 6 * M) is None  # past the 5-minute window
    only_dc = IncidentSettings(tags=("dc",))
    assert join([opened], member("errors", 3), only_dc, 3 * M) is None  # host does not count


def test_a_declared_dependency_groups_and_the_upstream_is_the_root() -> None:
    web = member("web slow", 0, tags={"service": "web"})
    opened = open_incident("p", web, 0)
    db = member("db down", 2, tags={"service": "db"})  # web -> api -> db: linked through api
    joined = join([opened], db, DEPS, 2 * M)
    assert joined is not None
    assert joined.root == "i-db down"  # upstream, though it fired later
    assert joined.title == "db down on service=db (+1 more)"
    alone = join([opened], db, IncidentSettings(), 2 * M)
    assert alone is None


def test_a_second_rule_on_the_same_series_for_the_same_cause_is_a_duplicate() -> None:
    opened = open_incident("p", member("cpu high", 0, metric="cpu"), 0)
    twin = member("cpu very high", 1, metric="cpu")
    joined = join([opened], twin, IncidentSettings(), M)
    assert joined is not None and joined.members[1].duplicate_of == "i-cpu high"
    assert "a duplicate of cpu high" in joined.timeline[-1].text
    other_way = member("cpu low", 1, metric="cpu", direction="down")
    assert join([opened], other_way, IncidentSettings(), M).members[1].duplicate_of is None  # type: ignore[union-attr]
    anomaly = member("cpu anomalous", 1, metric="cpu", direction="any")
    assert join([opened], anomaly, IncidentSettings(), M).members[1].duplicate_of == "i-cpu high"  # type: ignore[union-attr]


def test_the_state_follows_the_members() -> None:
    incident = join([open_incident("p", member("a", 0), 0)], member("b", 1), IncidentSettings(), M)
    assert incident is not None and incident.state is IncidentState.OPEN
    settings = IncidentSettings()
    acked = move_member(incident, "i-a", MemberState.ACKNOWLEDGED, "a acked", settings, 2 * M)
    assert acked.state is IncidentState.OPEN  # b still fires
    acked = move_member(acked, "i-b", MemberState.ACKNOWLEDGED, "b acked", settings, 2 * M)
    assert acked.state is IncidentState.ACKNOWLEDGED
    one = move_member(acked, "i-a", MemberState.RESOLVED, "a resolved", settings, 3 * M)
    assert one.state is IncidentState.ACKNOWLEDGED
    done = move_member(one, "i-b", MemberState.RESOLVED, "b resolved", settings, 4 * M)
    assert (done.state, done.resolved_us) == (IncidentState.RESOLVED, 4 * M)


def test_changes_made_elsewhere_meanwhile_are_merged() -> None:
    base = open_incident("p", member("a", 0), 0)
    settings = IncidentSettings()
    theirs = join([base], member("b", 1), settings, M)
    assert theirs is not None
    theirs = replace(theirs, version=2)
    mine = move_member(base, "i-a", MemberState.ACKNOWLEDGED, "a acked", settings, 2 * M)
    merged = merge(theirs, mine, since=0, settings=settings)
    assert {m.instance_id: m.state for m in merged.members} == {
        "i-a": MemberState.ACKNOWLEDGED,
        "i-b": MemberState.FIRING,
    }
    assert [t.text for t in merged.timeline][-2:] == ["b fired on host=web-1", "a acked"]
    assert merged.version == 2
