"""IncidentStore contract: incidents with compare-and-set, paging, settings, on every store."""

from __future__ import annotations

from dataclasses import replace

from domain.incidents.model import (
    Dependency,
    Incident,
    IncidentSettings,
    IncidentState,
    Member,
    MemberState,
    TimelineEntry,
)
from domain.incidents.ports import IncidentStore
from tests.contract.data import NOW_US

MEMBER = Member(
    "a1", "cpu high", "i1", {"host": "web-1"}, "cpu", {"host": "web-1", "dc": "eu"}, "up",
    "critical", MemberState.FIRING, NOW_US, NOW_US,
)  # fmt: skip


def incident(n: int, state: IncidentState = IncidentState.OPEN) -> Incident:
    return Incident(
        f"inc-{n}", "alpha", state, f"incident {n}", NOW_US + n, NOW_US + n, "i1", (MEMBER,),
        (TimelineEntry(NOW_US + n, "opened: cpu high fired on host=web-1", "i1"),),
    )  # fmt: skip


async def test_incidents_are_inserted_once_and_changed_by_version(
    incidents: IncidentStore,
) -> None:
    first = incident(1)
    assert await incidents.save_incident(first, expected_version=None)
    assert not await incidents.save_incident(first, expected_version=None)  # the id exists
    assert await incidents.get_incident("alpha", "inc-1") == first
    assert await incidents.get_incident("beta", "inc-1") is None
    acked = first.changed(state=IncidentState.ACKNOWLEDGED)
    assert await incidents.save_incident(acked, expected_version=1)
    assert not await incidents.save_incident(acked.changed(), expected_version=1)  # stale
    assert await incidents.get_incident("alpha", "inc-1") == acked


async def test_incidents_are_listed_newest_first_by_state_and_paged(
    incidents: IncidentStore,
) -> None:
    for n in range(5):
        state = IncidentState.RESOLVED if n == 2 else IncidentState.OPEN
        await incidents.save_incident(incident(n, state), expected_version=None)
    listed = await incidents.list_incidents("alpha", first=2)
    assert [i.id for i in listed] == ["inc-4", "inc-3"]
    more = await incidents.list_incidents("alpha", before=(listed[-1].opened_us, "inc-3"))
    assert [i.id for i in more] == ["inc-2", "inc-1", "inc-0"]
    resolved = await incidents.list_incidents("alpha", state=IncidentState.RESOLVED)
    assert [i.id for i in resolved] == ["inc-2"]
    assert [i.id for i in await incidents.open_incidents("alpha")] == [
        "inc-4",
        "inc-3",
        "inc-1",
        "inc-0",
    ]
    assert await incidents.open_incidents("beta") == []


async def test_settings_are_saved_per_project(incidents: IncidentStore) -> None:
    assert await incidents.get_incident_settings("alpha") is None
    settings = IncidentSettings(
        window_us=600_000_000,
        tags=("host",),
        dependency_tag="svc",
        dependencies=(Dependency("api", "db"),),
        version=1,
    )
    await incidents.save_incident_settings("alpha", settings)
    await incidents.save_incident_settings("alpha", replace(settings, version=2))
    assert await incidents.get_incident_settings("alpha") == replace(settings, version=2)
    assert await incidents.get_incident_settings("beta") is None
