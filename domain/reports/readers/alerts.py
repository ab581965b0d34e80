"""ALERTS sections: what fired over the report's range, for how long, who acknowledged;
and the incidents open during it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.alerting.model import AlertState, InstanceKey, Transition
from domain.alerting.queries import GetAlertHistoryQuery, GetAlertsListQuery
from domain.alerting.read_models import AlertDto
from domain.incidents.model import Incident
from domain.incidents.queries import ListIncidentsQuery
from domain.messagebus import Ask
from domain.paging import MAX_PAGE, Page
from domain.reports.document import Cell, Section, TableSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window

__all__ = ["COLUMNS", "INCIDENT_COLUMNS", "read_alerts"]

COLUMNS = ["alert", "severity", "state now", "fired", "firing seconds", "acknowledged by"]
INCIDENT_COLUMNS = [
    "incident",
    "state now",
    "opened",
    "resolved",
    "open seconds",
    "alerts",
    "acknowledged by",
]
MAX_INCIDENTS = 1_000
_ON = frozenset({AlertState.FIRING, AlertState.ACKNOWLEDGED})
MAX_ALERTS = 1_000


async def read_alerts(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    rows: list[list[Cell]] = []
    after: str | None = None
    count = 0
    while count < MAX_ALERTS:
        page: Page[AlertDto] = await ask(GetAlertsListQuery(project, first=100, after=after))
        for view in page.items:
            row = await _row(ask, project, view, window)
            if row is not None:
                rows.append(row)
        count += len(page.items)
        if not page.has_next_page or not page.items:
            break
        after = page.items[-1].alert.id
    rows.sort(key=lambda r: (-float(r[4] or 0), str(r[0])))
    note = "" if rows else "no alert fired in this range"
    title = spec.title or "Alerts"
    incidents = await _incidents(ask, project, window)
    return [
        TableSection(title, COLUMNS, rows, note=note),
        TableSection(
            f"{title}: incidents",
            INCIDENT_COLUMNS,
            incidents,
            note="" if incidents else "no incident was open in this range",
        ),
    ]


async def _incidents(ask: Ask, project: str, window: Window) -> list[list[Cell]]:
    """Incidents open at some time in the range, oldest first."""
    zone = ZoneInfo(window.timezone)
    found: list[Incident] = []
    after: str | None = None
    while len(found) < MAX_INCIDENTS:
        page: Page[Incident] = await ask(ListIncidentsQuery(project, first=100, after=after))
        found.extend(page.items)
        if not page.has_next_page or not page.items:
            break
        after = page.items[-1].id
    rows: list[list[Cell]] = []
    for incident in sorted(found, key=lambda i: (i.opened_us, i.id)):
        closed = incident.resolved_us
        if incident.opened_us >= window.end_us or (closed is not None and closed < window.start_us):
            continue
        start = max(incident.opened_us, window.start_us)
        end = min(closed if closed is not None else window.end_us, window.end_us)
        acknowledged = {e.by for e in incident.timeline if e.by and "acknowledg" in e.text.lower()}
        rows.append(
            [
                incident.title,
                incident.state.value,
                _local(incident.opened_us, zone),
                _local(closed, zone) if closed is not None else None,
                round((end - start) / 1e6, 1),
                len(incident.members),
                ", ".join(sorted(acknowledged)),
            ]
        )
    return rows


def _local(at_us: int, zone: ZoneInfo) -> str:
    moment = datetime.fromtimestamp(at_us // 1_000_000, UTC).astimezone(zone)
    return moment.isoformat(timespec="seconds")


async def _row(ask: Ask, project: str, view: AlertDto, window: Window) -> list[Cell] | None:
    transitions = await _history(ask, project, view.alert.id, window.start_us)
    by_instance: dict[InstanceKey, list[Transition]] = defaultdict(list)
    for t in transitions:
        if t.at_us < window.end_us:
            by_instance[t.instance_key].append(t)
    fired = 0
    on_us = 0
    acknowledged: set[str] = set()
    for moves in by_instance.values():
        moves.sort(key=lambda t: t.at_us)
        state = AlertState.OK
        since = window.start_us
        for t in moves:
            if t.at_us >= window.start_us:
                if state in _ON:
                    on_us += t.at_us - max(since, window.start_us)
                if t.to_state is AlertState.FIRING and t.from_state is not AlertState.FIRING:
                    fired += 1
                if t.to_state is AlertState.ACKNOWLEDGED and t.by:
                    acknowledged.add(t.by)
            state, since = t.to_state, t.at_us
        if state in _ON:
            on_us += window.end_us - max(since, window.start_us)
    if not fired and not on_us:
        return None
    return [
        view.alert.rule.name,
        view.severity.value,
        view.state.value,
        fired,
        round(on_us / 1e6, 1),
        ", ".join(sorted(acknowledged)),
    ]


async def _history(ask: Ask, project: str, alert_id: str, start_us: int) -> list[Transition]:
    """The transitions back to the last one before the range (the state it began in)."""
    found: list[Transition] = []
    before: int | None = None
    while True:
        page: list[Transition] = await ask(
            GetAlertHistoryQuery(project, alert_id, first=MAX_PAGE, before_us=before)
        )
        found.extend(page)
        if len(page) < MAX_PAGE or page[-1].at_us < start_us:
            return found
        before = page[-1].at_us
