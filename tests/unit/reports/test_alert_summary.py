"""The ALERTS section's arithmetic: firing time clipped to the range, fired counts, who
acknowledged, and alerts quiet over the range left out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from domain.alerting.model import AlertState, Reason, Transition
from domain.alerting.queries import GetAlertHistoryQuery, GetAlertsListQuery
from domain.incidents.queries import ListIncidentsQuery
from domain.paging import Page
from domain.reports.document import TableSection
from domain.reports.model import SectionKind, SectionSpec
from domain.reports.ports import Window
from domain.reports.readers.alerts import read_alerts

S = 1_000_000
START, END = 1_000 * S, 2_000 * S
OK, FIRING, ACKED, RESOLVED = (
    AlertState.OK,
    AlertState.FIRING,
    AlertState.ACKNOWLEDGED,
    AlertState.RESOLVED,
)


def move(key: str, before: AlertState, after: AlertState, at_s: int, by: str = "") -> Transition:
    return Transition((key,), before, after, at_s * S, None, None, Reason.CROSSED, by=by)


def view(alert_id: str, name: str) -> Any:
    alert = SimpleNamespace(id=alert_id, rule=SimpleNamespace(name=name))
    return SimpleNamespace(
        alert=alert, severity=SimpleNamespace(value="warning"), state=SimpleNamespace(value="ok")
    )


HISTORY = {
    # Firing since before the range, acknowledged inside it, resolved at 1,300 s.
    "a1": [
        move("h1", FIRING, RESOLVED, 1_300),
        move("h1", FIRING, ACKED, 1_100, by="erin"),
        move("h1", OK, FIRING, 900),
    ],
    # Two instances: one fires twice inside the range, one still firing at its end.
    "a2": [
        move("h2", OK, FIRING, 1_900),
        move("h1", FIRING, OK, 1_600),
        move("h1", OK, FIRING, 1_500),
        move("h1", FIRING, OK, 1_250),
        move("h1", OK, FIRING, 1_200),
    ],
    # Only before the range: left out.
    "a3": [move("h1", FIRING, OK, 800), move("h1", OK, FIRING, 700)],
}


async def ask(query: Any) -> Any:
    if isinstance(query, ListIncidentsQuery):
        return Page([], False)
    if isinstance(query, GetAlertsListQuery):
        return Page([view("a1", "cpu"), view("a2", "disk"), view("a3", "old")], False)
    assert isinstance(query, GetAlertHistoryQuery)
    return [
        t for t in HISTORY[query.alert_id] if query.before_us is None or t.at_us < query.before_us
    ]


async def test_firing_time_is_clipped_to_the_range() -> None:
    table, incidents = await read_alerts(
        ask, "demo", SectionSpec(SectionKind.ALERTS), Window(START, END, "UTC")
    )
    assert isinstance(table, TableSection) and isinstance(incidents, TableSection)
    assert incidents.rows == [] and incidents.note == "no incident was open in this range"
    assert table.rows == [
        # From the range's start (1,000 s) to the resolve (1,300 s); it fired before it.
        ["cpu", "warning", "ok", 0, 300.0, "erin"],
        # h1: 1,200-1,250 and 1,500-1,600 s; h2: from 1,900 s to the range's end.
        ["disk", "warning", "ok", 3, 250.0, ""],
    ]


def incident(title: str, opened_s: int, resolved_s: int | None, *by: str) -> Any:
    timeline = [SimpleNamespace(by=b, text=f"acknowledged by {b}") for b in by]
    timeline.append(SimpleNamespace(by="", text="opened: cpu fired"))
    return SimpleNamespace(
        id=title,
        title=title,
        state=SimpleNamespace(value="open" if resolved_s is None else "resolved"),
        opened_us=opened_s * S,
        resolved_us=None if resolved_s is None else resolved_s * S,
        members=[1, 2],
        timeline=timeline,
    )


async def test_incidents_open_in_the_range_are_listed_with_their_time_in_it() -> None:
    found = [
        incident("still open", 1_900, None),
        incident("across the start", 400, 1_100, "erin", "vic", "erin"),
        incident("before", 100, 999),
        incident("after", 2_000, None),
    ]

    async def asking(query: Any) -> Any:
        if isinstance(query, ListIncidentsQuery):
            return Page(found, False)
        return await ask(query)

    _, table = await read_alerts(
        asking, "demo", SectionSpec(SectionKind.ALERTS), Window(START, END, "Asia/Tokyo")
    )
    assert isinstance(table, TableSection)
    assert table.rows == [
        ["across the start", "resolved", "1970-01-01T09:06:40+09:00",
         "1970-01-01T09:18:20+09:00", 100.0, 2, "erin, vic"],
        ["still open", "open", "1970-01-01T09:31:40+09:00", None, 100.0, 2, ""],
    ]  # fmt: skip
