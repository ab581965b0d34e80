"""Report definitions through the real app: create, read, list with cursors, update with
the expected version, delete; bad input changes nothing; roles and foreign projects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.reports_support import (
    ADMIN,
    CREATE,
    DELETE,
    EDITOR,
    GET,
    LIST,
    OTHER,
    RUN_NOW,
    RUNS,
    UPDATE,
    VIEWER,
    code_of,
    create_report,
    report_input,
    series_section,
)
from tests.support import RunningVigil, token

CHANNEL = """mutation($p: String!, $c: NotificationChannelInput) {
  configureNotification(project: $p, channel: $c) { id } }"""


async def test_a_report_is_stored_as_given_and_read_back(vigil: RunningVigil) -> None:
    document = report_input(
        "CSV",
        schedule={"kind": "CRON", "expression": "0 9 * * 1", "timezone": "Europe/Paris"},
        artefactRetentionDays=7,
    )
    document["timeRange"] = "  Previous   CALENDAR week "
    matchers = [{"key": "host", "op": "REGEX", "value": "web-.*"}]
    document["sections"][0]["matchers"] = matchers
    created = await create_report(vigil, document)
    assert created["sections"][0]["matchers"] == matchers
    assert created["timeRange"] == "previous calendar week"  # normalised
    assert created["schedule"] == {
        "kind": "CRON",
        "expression": "0 9 * * 1",
        "timezone": "Europe/Paris",
        "missed": "RUN_ONCE",
    }
    assert created["artefactRetentionDays"] == 7 and created["format"] == "CSV"
    section = created["sections"][0]
    assert section["stepSeconds"] == 600 and section["groupBy"] == ["host"]
    read = await vigil.ok(GET, {"p": "demo", "id": created["id"]}, auth=VIEWER)
    assert read["report"] == created


async def test_updates_need_the_current_version(vigil: RunningVigil) -> None:
    created = await create_report(vigil)
    changed = report_input(title="Renamed")
    changed["title"] = "Renamed"
    updated = await vigil.ok(
        UPDATE, {"p": "demo", "id": created["id"], "v": 1, "r": changed}, auth=ADMIN
    )
    assert updated["updateReport"]["version"] == 2
    assert updated["updateReport"]["title"] == "Renamed"
    assert updated["updateReport"]["updatedBy"] == "alice"
    stale = await vigil.gql(
        UPDATE, {"p": "demo", "id": created["id"], "v": 1, "r": report_input()}, auth=EDITOR
    )
    assert code_of(stale) == "CONFLICT"
    assert stale["errors"][0]["extensions"]["current_version"] == 2
    read = await vigil.ok(GET, {"p": "demo", "id": created["id"]}, auth=VIEWER)
    assert read["report"]["title"] == "Renamed"


async def test_reports_page_by_cursor_and_delete(vigil: RunningVigil) -> None:
    ids = []
    for n in range(3):
        document = report_input()
        document["title"] = f"Report {n}"
        ids.append((await create_report(vigil, document))["id"])
    first = await vigil.ok(LIST, {"p": "demo", "first": 2}, auth=VIEWER)
    page = first["reports"]
    assert [i["id"] for i in page["items"]] == ids[:2] and page["pageInfo"]["hasNextPage"]
    rest = await vigil.ok(
        LIST, {"p": "demo", "first": 2, "after": page["pageInfo"]["endCursor"]}, auth=VIEWER
    )
    assert [i["id"] for i in rest["reports"]["items"]] == ids[2:]
    bad = await vigil.gql(LIST, {"p": "demo", "after": "nope"}, auth=VIEWER)
    assert code_of(bad) == "BAD_USER_INPUT"

    assert (await vigil.ok(DELETE, {"p": "demo", "id": ids[1]}, auth=EDITOR))["deleteReport"]
    gone = await vigil.gql(GET, {"p": "demo", "id": ids[1]}, auth=VIEWER)
    assert code_of(gone) == "NOT_FOUND"
    again = await vigil.gql(DELETE, {"p": "demo", "id": ids[1]}, auth=EDITOR)
    assert code_of(again) == "NOT_FOUND"


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("title", {"title": "  "}, "title must be 1 to 200 characters"),
    ("range", {"timeRange": "since forever"}, "time range 'since forever' is not"),
    ("zone", {"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA time zone"),
    ("no sections", {"sections": []}, "a report has 1 to 50 sections"),
    (
        "series without metric",
        {"sections": [{"kind": "SERIES"}]},
        "sections[0] (SERIES): metric is required",
    ),
    (
        "unknown dashboard",
        {"sections": [{"kind": "DASHBOARD", "dashboardId": "nope"}]},
        "sections[0] (DASHBOARD): no dashboard 'nope'",
    ),
    ("empty markdown", {"sections": [{"kind": "MARKDOWN"}]}, "markdown must be 1 to"),
    (
        "unknown analytics job",
        {"sections": [{"kind": "ANALYTICS", "analyticsJobId": "nope"}]},
        "sections[0] (ANALYTICS): no analytics job 'nope'",
    ),
    ("bad step", {"sections": [series_section(step="soon")]}, "step 'soon' is not a duration"),
    (
        "bad cron",
        {"schedule": {"kind": "CRON", "expression": "every monday"}},
        "has five fields",
    ),
    (
        "bad rrule",
        {"schedule": {"kind": "RRULE", "expression": "BYHOUR=9"}},
        "needs FREQ",
    ),
    ("unknown channel", {"recipients": ["c-nope"]}, "no notification channel 'c-nope'"),
    ("retention", {"artefactRetentionDays": 0}, "artefactRetentionDays must be between"),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
async def test_bad_definitions_are_refused_and_nothing_is_stored(
    vigil: RunningVigil, case: str, change: dict[str, Any], message: str
) -> None:
    body = await vigil.gql(CREATE, {"p": "demo", "r": report_input(**change)}, auth=EDITOR)
    assert code_of(body) == "BAD_USER_INPUT", body
    assert message in body["errors"][0]["message"]
    listed = await vigil.ok(LIST, {"p": "demo"}, auth=VIEWER)
    assert listed["reports"]["items"] == []


async def test_recipients_are_channels_of_the_project(vigil: RunningVigil) -> None:
    channel = {"name": "ops", "kind": "WEBHOOK", "url": "https://8.8.8.8/hook"}
    made = await vigil.ok(CHANNEL, {"p": "demo", "c": channel}, auth=ADMIN)
    channel_id = made["configureNotification"]["id"]
    created = await create_report(vigil, report_input(recipients=[channel_id]))
    assert created["recipients"] == [channel_id]
    await vigil.ok(CHANNEL, {"p": "other", "c": channel}, auth=token(other="admin"))
    foreign = await vigil.gql(
        CREATE, {"p": "other", "r": report_input(recipients=[channel_id])}, auth=OTHER
    )
    assert code_of(foreign) == "BAD_USER_INPUT"


async def test_viewers_read_editors_write_and_foreign_ids_are_missing(
    vigil: RunningVigil,
) -> None:
    created = await create_report(vigil)
    refused = await vigil.gql(CREATE, {"p": "demo", "r": report_input()}, auth=VIEWER)
    assert code_of(refused) == "FORBIDDEN"
    run = await vigil.gql(RUN_NOW, {"p": "demo", "id": created["id"]}, auth=VIEWER)
    assert code_of(run) == "FORBIDDEN"
    outsider = await vigil.gql(GET, {"p": "demo", "id": created["id"]}, auth=OTHER)
    assert code_of(outsider) == "FORBIDDEN"
    # Asked in their own project, another project's id answers as a missing one.
    for query in (GET, RUN_NOW, DELETE):
        body = await vigil.gql(query, {"p": "other", "id": created["id"]}, auth=OTHER)
        assert code_of(body) == "NOT_FOUND"
    runs = await vigil.gql(RUNS, {"p": "other", "id": created["id"]}, auth=OTHER)
    assert code_of(runs) == "NOT_FOUND"
