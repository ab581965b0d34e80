"""Alerts evaluated through the bus: streaming, ticks, restarts, acknowledge and resolve."""

from __future__ import annotations

import asyncio

import pytest

from domain.alerting import AlertState, InvalidTransition
from domain.alerting.commands import (
    AcknowledgeAlertCommand,
    ResolveAlertCommand,
)
from domain.alerting.read_models import AlertDto
from domain.alerting.runtime import AlertEngine
from domain.errors import BadUserInput, NotFound
from domain.messagebus import MessageBus
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.alerting.handling import S, alert_events, create, send, view
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore, FakePublisher

# -- streaming evaluation, ticks, events and persistence ------------------------------------


async def test_a_crossing_point_fires_at_ingest_and_is_published_and_stored(
    bus: MessageBus, publisher: FakePublisher, alert_store: FakeAlertStore
) -> None:
    dto = await create(bus)

    await send(bus, ("web-1", 95.0))

    assert alert_events(publisher) == ["ThresholdExceededEvent", "AlertTriggeredEvent"]
    _, triggered = publisher.published[-1]
    assert (triggered["rule_id"], triggered["tags"], triggered["value"]) == (
        dto.alert.id,
        {"host": "web-1"},
        95.0,
    )
    now = await view(bus, dto.alert.id)  # an instance appears with its group's first point
    assert (now.state, [i.key for i in now.instances]) == (AlertState.FIRING, [("web-1",)])
    await asyncio.sleep(0.01)
    stored = {s.key: s.state for s in alert_store.instances[dto.alert.id].values()}
    assert stored[("web-1",)] is AlertState.FIRING
    assert [t.to_state for t in alert_store.transitions[dto.alert.id]] == [AlertState.FIRING]


async def test_the_tick_ends_a_pending_period(
    bus: MessageBus, engine: AlertEngine, clock: FakeClock, publisher: FakePublisher
) -> None:
    dto = await create(bus, for_us=30 * S)
    await send(bus, ("web-1", 95.0))
    assert (await view(bus, dto.alert.id)).state is AlertState.PENDING

    clock.advance(20)
    await engine.tick()
    assert (await view(bus, dto.alert.id)).state is AlertState.PENDING
    clock.advance(10)
    await engine.tick()

    assert (await view(bus, dto.alert.id)).state is AlertState.FIRING
    assert alert_events(publisher) == ["ThresholdExceededEvent", "AlertTriggeredEvent"]


async def test_another_projects_points_touch_nothing(
    bus: MessageBus, publisher: FakePublisher
) -> None:
    dto = await create(bus)
    await send(bus, ("web-1", 10.0), project="other")
    await send(bus, ("web-1", 99.0), project="other")

    assert (await view(bus, dto.alert.id)).state is AlertState.OK
    assert alert_events(publisher, "other") == []


async def test_a_restarted_engine_restores_a_pending_instance(
    bus: MessageBus,
    alert_store: FakeAlertStore,
    clock: FakeClock,
    publisher: FakePublisher,
    store: FakeMetricStore,
) -> None:
    dto = await create(bus, for_us=30 * S)
    await send(bus, ("web-1", 95.0))
    await asyncio.sleep(0.01)
    clock.advance(10)

    restarted = AlertEngine(alert_store, store, clock, tick_seconds=0)
    await restarted.start(publish=bus.publish)
    [state] = [s for s in restarted.instances(dto.alert.id) or [] if s.key == ("web-1",)]
    assert (state.state, state.since_us) == (AlertState.PENDING, NOW_US)

    clock.advance(20)  # 30 s after the crossing, 20 s after the restart
    await restarted.tick()
    [state] = [s for s in restarted.instances(dto.alert.id) or [] if s.key == ("web-1",)]
    assert state.state is AlertState.FIRING
    await restarted.close()


# -- acknowledge and resolve ----------------------------------------------------------------


async def test_acknowledge_then_resolve_every_firing_instance(
    bus: MessageBus, publisher: FakePublisher, alert_store: FakeAlertStore, clock: FakeClock
) -> None:
    dto = await create(bus)
    await send(bus, ("web-1", 95.0), ("web-2", 96.0))
    alert_id = dto.alert.id

    acked: AlertDto = await bus.handle(
        AcknowledgeAlertCommand(
            "acme", alert_id, until_us=clock.now_us() + 60 * S, comment="on it", actor="bob"
        )
    )
    assert [(i.state, i.ack and i.ack.by) for i in acked.instances] == [
        (AlertState.ACKNOWLEDGED, "bob"),
        (AlertState.ACKNOWLEDGED, "bob"),
    ]
    assert alert_events(publisher)[-2:] == ["AlertAcknowledgedEvent", "AlertAcknowledgedEvent"]
    assert publisher.published[-1][1]["until_us"] == clock.now_us() + 60 * S

    resolved: AlertDto = await bus.handle(
        ResolveAlertCommand("acme", alert_id, {"host": "web-2"}, comment="fixed", actor="bob")
    )
    assert [i.state for i in resolved.instances] == [AlertState.ACKNOWLEDGED, AlertState.RESOLVED]
    assert alert_events(publisher)[-1] == "AlertResolvedEvent"
    stored = alert_store.transitions[alert_id]  # written before the command answered
    assert [(t.to_state, t.by, t.comment) for t in stored[-1:]] == [
        (AlertState.RESOLVED, "bob", "fixed")
    ]


async def test_moves_the_state_machine_does_not_allow_are_refused(bus: MessageBus) -> None:
    alert_id = (await create(bus)).alert.id
    await send(bus, ("web-1", 10.0))

    with pytest.raises(InvalidTransition, match="nothing to acknowledge"):
        await bus.handle(AcknowledgeAlertCommand("acme", alert_id))
    with pytest.raises(InvalidTransition, match="only a firing alert"):
        await bus.handle(AcknowledgeAlertCommand("acme", alert_id, {"host": "web-1"}))
    with pytest.raises(BadUserInput, match="does not group by"):
        await bus.handle(AcknowledgeAlertCommand("acme", alert_id, {"dc": "eu"}))
    with pytest.raises(NotFound, match="no alert instance"):
        await bus.handle(ResolveAlertCommand("acme", alert_id, {"host": "web-9"}))
    with pytest.raises(InvalidTransition, match="nothing to resolve"):
        await bus.handle(ResolveAlertCommand("acme", alert_id))
