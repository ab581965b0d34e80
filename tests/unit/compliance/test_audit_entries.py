"""What an audit entry says: the caller's role and address, the ids touched, each changed
field with secrets redacted; and refusals kept out of tenants' logs, within limits."""

from __future__ import annotations

from typing import Any

import pytest

from domain.access import Permission, Principal, Role
from domain.changes import command_changes, diff, summarize, take_ok_entry
from domain.errors import BadUserInput
from domain.messagebus import Caller, MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.queries import GetMetricNamesQuery, GetMetricSeriesQuery
from domain.notifications.commands import ConfigureNotificationCommand
from domain.system.audit import AuditTrail
from domain.system.model import SECURITY_LOG
from domain.system.read_models import AuditEntry
from domain.system.reads import HOUR_US, ReadLedger
from domain.system.security import SecurityLog
from tests.unit.compliance.fakes import ChainStore
from tests.unit.fakes import NOW_US, FakeClock


def test_a_diff_names_each_changed_field_and_redacts_secrets() -> None:
    before = {"name": "hook", "url": "https://a/x", "secret": "old", "enabled": True}
    after = {"name": "hook", "url": "https://b/x", "secret": "new", "enabled": True}

    changes = [c.to_dict() for c in diff(before, after, secrets=("secret",))]

    assert changes == [
        {"field": "secret", "old": None, "new": None, "redacted": True},
        {"field": "url", "old": "https://a/x", "new": "https://b/x", "redacted": False},
    ]


def test_secret_names_are_redacted_even_when_nobody_said_so() -> None:
    changes = diff(None, {"smtp_password": "p", "api_key": "k", "token": "t", "host": "h"})
    assert [(c.field, c.redacted, c.new) for c in changes] == [
        ("api_key", True, None),
        ("host", False, "h"),
        ("smtp_password", True, None),
        ("token", True, None),
    ]
    assert summarize({"spec": {"secret": "s", "x": 1}}) == {
        "spec": {"secret": "[redacted]", "x": 1}
    }


def test_a_command_without_a_note_is_recorded_by_its_fields_batches_counted() -> None:
    command = ConfigureNotificationCommand("demo", spec={"name": "n", "secret": "s"}, actor="ann")
    changes = {c.field: c.new for c in command_changes(command)}
    assert changes == {"delete": False, "spec": {"name": "n", "secret": "[redacted]"}}
    assert summarize(["x"] * 50) == "<50 items>"
    assert summarize("y" * 600).endswith("...") and len(summarize("y" * 600)) == 503


async def test_a_command_entry_holds_role_client_target_and_changes() -> None:
    store, clock = ChainStore(), FakeClock()

    async def rename(command: Any, events: list[Any]) -> str:
        from domain.changes import note_changes, note_target

        note_target(channel="c1")
        note_changes(
            {"name": "a", "secret": "old-s3cret"},
            {"name": "b", "secret": "new-s3cret"},
            secrets=("secret",),
        )
        return "done"

    bus = MessageBus(
        commands={ConfigureNotificationCommand: rename},
        queries={},
        events={},
        audit=AuditTrail(store, clock),  # type: ignore[arg-type]
    )
    caller = Caller("ann", {"demo": "admin"}, client="10.0.0.7", request_id="r1", token_id="t1")

    await bus.for_caller(caller).handle(ConfigureNotificationCommand("demo"), actor="ann")

    (entry,) = store.rows
    assert (entry.actor, entry.role, entry.client, entry.request_id) == (
        "ann",
        "admin",
        "10.0.0.7",
        "r1",
    )
    assert entry.target == {"channel": "c1"} and entry.project == "demo"
    assert entry.changes == [
        {"field": "name", "old": "a", "new": "b", "redacted": False},
        {"field": "secret", "old": None, "new": None, "redacted": True},
    ]
    assert "s3cret" not in str(entry)


async def test_refusals_of_outsiders_go_to_the_security_log_within_limits() -> None:
    store, clock = ChainStore(), FakeClock()
    log = SecurityLog(AuditTrail(store, clock), clock, per_source=3, overall=100)  # type: ignore[arg-type]

    for _ in range(10):
        await log.refused(
            metric="refused_tokens",
            actor="anonymous",
            action="query:metricNames",
            outcome="UNAUTHENTICATED",
            asked="tenant",
            client="6.6.6.6",
        )
    assert [r.project for r in store.rows] == [SECURITY_LOG] * 3  # never the tenant's log
    clock.advance(61)
    await log.flush()

    suppressed = store.rows[-1]
    assert (suppressed.action, suppressed.detail["refusals"]) == ("suppressed", 7)
    assert log.counters.totals[("refused_tokens", "", "")] == 10
    assert log.counters.totals[("rate_limited", "", "refused_tokens")] == 7


async def test_a_members_refusal_goes_to_its_projects_log() -> None:
    store, clock = ChainStore(), FakeClock()
    log = SecurityLog(AuditTrail(store, clock), clock)  # type: ignore[arg-type]

    await log.refused(
        metric="refused_permissions",
        actor="vic",
        action="mutation:createAlert",
        outcome="FORBIDDEN",
        asked="demo",
        tenant=True,
        role="viewer",
    )
    (entry,) = store.rows
    assert (entry.project, entry.role, entry.outcome) == ("demo", "viewer", "FORBIDDEN")
    assert log.counters.totals[("refused_permissions", "demo", "")] == 1


async def test_metric_reads_are_one_entry_per_actor_project_and_hour() -> None:
    store, clock = ChainStore(), FakeClock(NOW_US)
    ledger = ReadLedger(
        AuditTrail(store, clock),  # type: ignore[arg-type]
        clock,
        audited=[GetMetricSeriesQuery, GetMetricNamesQuery],
        instance="a",
    )
    ann = Caller("ann", {"demo": "viewer"}, client="10.0.0.1")
    for _ in range(30):
        ledger.query_asked(GetMetricSeriesQuery("demo", "cpu", 0, 1), ann)
    ledger.query_asked(GetMetricNamesQuery("demo"), ann)
    ledger.query_asked(GetMetricNamesQuery("other"), Caller("bob"))
    assert await ledger.flush() == 0  # the hour is not over
    clock.advance(HOUR_US / 1e6)
    ledger.query_asked(GetMetricNamesQuery("demo"), ann)  # the next hour

    assert await ledger.flush() == 2
    by = {(e.actor, e.project): e for e in store.rows}
    ann_entry = by[("ann", "demo")]
    assert ann_entry.action == "readMetrics" and ann_entry.role == "viewer"
    assert ann_entry.detail["reads"] == 31
    assert ann_entry.detail["queries"] == {"GetMetricNamesQuery": 1, "GetMetricSeriesQuery": 30}
    assert ann_entry.client == "10.0.0.1"
    assert await ledger.flush(everything=True) == 1


def test_a_principal_loses_what_is_revoked() -> None:
    p = Principal("ann", {"a": Role.ADMIN, "b": Role.VIEWER}, token_id="t1")
    assert p.without({"a"}).roles == {"b": Role.VIEWER}
    assert not p.without({"a"}).can("a", Permission.READ)


def test_columns_and_arrays_are_counted_never_printed() -> None:
    from dataclasses import dataclass

    import numpy as np

    @dataclass(frozen=True)
    class Columns:
        values: object

        def __len__(self) -> int:
            return 3

    @dataclass(frozen=True)
    class Batch:
        points: object

    changes = {c.field: c.new for c in command_changes(Batch(Columns(np.zeros(3))))}
    assert changes == {"points": "<3 items>"}
    assert summarize(np.arange(5_000)) == "<5000 items>"


async def test_an_ok_entry_a_store_committed_with_the_write_is_not_recorded_again() -> None:
    """The bus offers a CreateMetricsCommand's "ok" entry to the store (decision 0042);
    a store that commits it with the points says so, and the trail records nothing more.
    A command the store left it to, or that failed after all, is recorded as before."""
    store, clock = ChainStore(), FakeClock()
    taken: list[AuditEntry] = []
    fail = False

    async def ingest(command: Any, events: list[Any]) -> None:
        offered = take_ok_entry()  # what the DuckDB store's append does
        assert offered is not None
        note, entry = offered
        taken.append(entry)
        note.ok_written = True
        assert take_ok_entry() is None  # one write carries it
        if fail:
            raise BadUserInput("refused after the write")

    async def configure(command: Any, events: list[Any]) -> None:
        assert take_ok_entry() is None  # only commands that say so offer it

    bus = MessageBus(
        commands={CreateMetricsCommand: ingest, ConfigureNotificationCommand: configure},
        queries={},
        events={},
        audit=AuditTrail(store, clock),  # type: ignore[arg-type]
    )
    caller = bus.for_caller(Caller("ann", {"demo": "editor"}, request_id="r1"))

    await caller.handle(CreateMetricsCommand("demo", []), actor="ann")
    assert store.rows == []
    (entry,) = taken
    assert (entry.actor, entry.action, entry.outcome, entry.project, entry.request_id) == (
        "ann",
        "CreateMetricsCommand",
        "ok",
        "demo",
        "r1",
    )

    fail = True
    with pytest.raises(BadUserInput):
        await caller.handle(CreateMetricsCommand("demo", []), actor="ann")
    assert [r.outcome for r in store.rows] == ["BAD_USER_INPUT"]

    await caller.handle(ConfigureNotificationCommand("demo"), actor="ann")
    assert [r.action for r in store.rows][-1] == "ConfigureNotificationCommand"
