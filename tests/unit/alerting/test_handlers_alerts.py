"""Alert commands and queries through the bus: create, update, delete, lists, history,
preview."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.alerting import AlertSeverity, AlertState
from domain.alerting.commands import (
    AcknowledgeAlertCommand,
    CreateAlertFromTemplateCommand,
    DeleteAlertCommand,
    UpdateAlertCommand,
)
from domain.alerting.queries import (
    GetAlertHistoryQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.alerting.read_models import AlertDto
from domain.alerting.runtime import AlertEngine
from domain.errors import BadUserInput, Conflict, NotFound
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.alerting.handling import RULE, S, create, send, view
from tests.unit.fakes import FakeAuditStore, FakeClock, FakePublisher

# -- create ---------------------------------------------------------------------------------


async def test_create_saves_the_alert_and_starts_evaluating_it(
    bus: MessageBus, alert_store: FakeAlertStore, engine: AlertEngine, audit: FakeAuditStore
) -> None:
    dto = await create(bus)

    assert alert_store.alerts[dto.alert.id] == dto.alert
    assert (dto.alert.version, dto.alert.created_by, dto.alert.enabled) == (1, "alice", True)
    assert (dto.state, dto.severity, dto.instances) == (AlertState.OK, AlertSeverity.CRITICAL, ())
    assert engine.rules == 1
    assert audit.entries[-1].action == "CreateAlertCommand"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"metric": "nope"}, "unknown metric 'nope'"),
        ({"window_us": -1}, "window must be positive"),
        ({"recovery_threshold": 95.0}, "recovery threshold must be below"),
        ({"matchers": [{"key": "host", "op": "=~", "value": "("}]}, "invalid regex"),
        ({"for_us": 40 * 86_400 * S}, "longer than the retention"),
        ({"condition": "~"}, "is not a valid Condition"),
    ],
)
async def test_a_bad_rule_is_refused_and_nothing_is_saved(
    bus: MessageBus, alert_store: FakeAlertStore, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadUserInput, match=message):
        await create(bus, **rule)
    assert alert_store.alerts == {}


async def test_create_from_a_template(
    bus: MessageBus, alert_store: FakeAlertStore, clock: FakeClock
) -> None:
    raw = [{"name": "vigil.process.cpu_percent", "value": 5.0, "tags": {"instance": "a"}}]
    await bus.handle(CreateMetricsCommand("system", raw))

    dto: AlertDto = await bus.handle(
        CreateAlertFromTemplateCommand("system", "vigil-cpu", {"percent": 150}, actor="alice")
    )

    assert dto.alert.template == "vigil-cpu"
    assert (dto.alert.rule.threshold, dto.alert.rule.group_by) == (150.0, ("instance",))
    with pytest.raises(BadUserInput, match="unknown parameter"):
        await bus.handle(CreateAlertFromTemplateCommand("system", "vigil-cpu", {"x": 1}))
    with pytest.raises(NotFound, match="no alert template"):
        await bus.handle(CreateAlertFromTemplateCommand("system", "nope"))
    with pytest.raises(BadUserInput, match="unknown metric"):  # acme has no such metric
        await bus.handle(CreateAlertFromTemplateCommand("acme", "vigil-cpu"))
    assert len(alert_store.alerts) == 1
    templates = await bus.ask(ListAlertTemplatesQuery())
    assert "vigil-cpu" in [t.name for t in templates]


# -- update, disable, delete ----------------------------------------------------------------


async def test_update_changes_the_running_rule(
    bus: MessageBus, alert_store: FakeAlertStore
) -> None:
    alert_id = (await create(bus)).alert.id

    dto: AlertDto = await bus.handle(
        UpdateAlertCommand("acme", alert_id, 1, {"rule": {"threshold": 50.0}}, actor="bob")
    )
    await send(bus, ("web-1", 60.0))

    assert (dto.alert.version, dto.alert.updated_by, dto.alert.rule.threshold) == (2, "bob", 50)
    assert alert_store.alerts[alert_id].version == 2
    assert (await view(bus, alert_id)).state is AlertState.FIRING


async def test_a_stale_version_is_refused_and_nothing_changes(
    bus: MessageBus, alert_store: FakeAlertStore
) -> None:
    alert_id = (await create(bus)).alert.id
    await bus.handle(UpdateAlertCommand("acme", alert_id, 1, {"enabled": True}))

    with pytest.raises(Conflict, match=r"changed by someone else \(version 2\)") as caught:
        await bus.handle(UpdateAlertCommand("acme", alert_id, 1, {"rule": {"threshold": 1.0}}))
    assert caught.value.details == {"current_version": 2}
    assert alert_store.alerts[alert_id].rule.threshold == 90.0
    with pytest.raises(BadUserInput, match="changes rule and/or enabled"):
        await bus.handle(UpdateAlertCommand("acme", alert_id, 2, {"owner": "x"}))


async def test_disabling_resolves_what_fires_and_enabling_evaluates_again(
    bus: MessageBus, engine: AlertEngine, publisher: FakePublisher
) -> None:
    alert_id = (await create(bus)).alert.id
    await send(bus, ("web-1", 95.0))

    off: AlertDto = await bus.handle(
        UpdateAlertCommand("acme", alert_id, 1, {"enabled": False}, actor="bob")
    )
    assert (off.alert.enabled, off.state, engine.rules) == (False, AlertState.RESOLVED, 0)
    assert publisher.published[-1][1]["comment"] == "alert disabled"
    with pytest.raises(BadUserInput, match="disabled"):
        await bus.handle(AcknowledgeAlertCommand("acme", alert_id))

    await bus.handle(UpdateAlertCommand("acme", alert_id, 2, {"enabled": True}))
    await send(bus, ("web-1", 97.0))
    assert (await view(bus, alert_id)).state is AlertState.FIRING


async def test_delete_and_foreign_ids_answer_not_found(
    bus: MessageBus, alert_store: FakeAlertStore, engine: AlertEngine
) -> None:
    alert_id = (await create(bus)).alert.id

    with pytest.raises(NotFound) as foreign:
        await view(bus, alert_id, project="other")
    with pytest.raises(NotFound) as missing:
        await view(bus, "0" * 32, project="other")
    assert str(foreign.value) == str(missing.value).replace("0" * 32, alert_id)
    with pytest.raises(NotFound):
        await bus.handle(DeleteAlertCommand("other", alert_id))
    with pytest.raises(NotFound):
        await bus.handle(UpdateAlertCommand("other", alert_id, 1, {"enabled": False}))

    assert await bus.handle(DeleteAlertCommand("acme", alert_id)) is True
    assert (alert_store.alerts, engine.rules) == ({}, 0)
    with pytest.raises(NotFound):
        await view(bus, alert_id)


# -- lists, history, preview ----------------------------------------------------------------


async def test_list_filters_by_current_state_and_severity_and_pages(
    bus: MessageBus, clock: FakeClock
) -> None:
    firing = (await create(bus, name="a")).alert.id
    clock.advance(0.001)  # listed by creation time (then by id)
    quiet = (await create(bus, name="b", threshold=99.0, severity="warning")).alert.id
    await send(bus, ("web-1", 95.0))

    def ids(page: Any) -> list[str]:
        return [d.alert.id for d in page.items]

    assert ids(await bus.ask(GetAlertsListQuery("acme"))) == [firing, quiet]
    assert ids(await bus.ask(GetAlertsListQuery("acme", state=AlertState.FIRING))) == [firing]
    warning = await bus.ask(GetAlertsListQuery("acme", severity=AlertSeverity.WARNING))
    assert ids(warning) == [quiet]
    first = await bus.ask(GetAlertsListQuery("acme", first=1))
    assert (ids(first), first.has_next_page) == ([firing], True)
    rest = await bus.ask(GetAlertsListQuery("acme", first=1, after=firing))
    assert (ids(rest), rest.has_next_page) == ([quiet], False)
    assert (await bus.ask(GetAlertsListQuery("other"))).items == []


async def test_history_is_newest_first(bus: MessageBus) -> None:
    alert_id = (await create(bus)).alert.id
    await send(bus, ("web-1", 95.0))
    await send(bus, ("web-1", 10.0))
    await asyncio.sleep(0.01)

    history = await bus.ask(GetAlertHistoryQuery("acme", alert_id))

    assert [(t.from_state, t.to_state) for t in history] == [
        (AlertState.FIRING, AlertState.RESOLVED),
        (AlertState.OK, AlertState.FIRING),
    ]
    with pytest.raises(NotFound):
        await bus.ask(GetAlertHistoryQuery("other", alert_id))


async def test_preview_replays_stored_points_and_saves_nothing(
    bus: MessageBus, clock: FakeClock, alert_store: FakeAlertStore, publisher: FakePublisher
) -> None:
    start = clock.now_us()
    for value in (95.0, 96.0, 97.0, 10.0):
        clock.advance(10)
        await send(bus, ("web-1", value))
    published = len(publisher.published)

    result = await bus.ask(
        PreviewAlertQuery(
            "acme", RULE | {"for_us": 15 * S}, start, clock.now_us() + S, step_us=5 * S
        )
    )

    assert result.points == 6  # web-1 and web-2 at the start, then four of web-1
    assert [(t.to_state, (t.at_us - start) // S) for t in result.result.transitions] == [
        (AlertState.PENDING, 10),
        (AlertState.FIRING, 25),
        (AlertState.RESOLVED, 40),
    ]
    assert [t.to_state for t in result.result.notifications] == [
        AlertState.FIRING,
        AlertState.RESOLVED,
    ]
    assert (alert_store.alerts, len(publisher.published)) == ({}, published)
    with pytest.raises(BadUserInput, match="unknown metric"):
        await bus.ask(PreviewAlertQuery("acme", RULE | {"metric": "x"}, start, start + S, S))
