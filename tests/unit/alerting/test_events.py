"""Alert events: which a transition publishes, on `alerts.<project>`, JSON-ready."""

from __future__ import annotations

import dataclasses
import json

from domain.alerting import (
    AlertAcknowledgedEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
    ThresholdExceededEvent,
    events_for,
    instance_id,
)
from domain.events import Event
from tests.unit.alerting.support import Ack, Input, Resolve, S, rule, run

RULE = rule(warning_threshold=80.0, for_us=10 * S)


def published(steps: list[tuple[int, Input]]) -> list[Event]:
    _, transitions = run(RULE, steps)
    return [
        e for t in transitions for e in events_for("acme", "rule-1", RULE, t, ack_until_us=None)
    ]


def test_each_transition_publishes_what_it_means() -> None:
    events = published(
        [(0, 85), (10, 85), (15, 95), (20, Ack()), (30, 50), (40, 95), (45, Resolve("done"))]
    )

    assert [type(e) for e in events] == [
        ThresholdExceededEvent,  # 0: pending
        AlertTriggeredEvent,  # 10: firing (warning)
        AlertTriggeredEvent,  # 15: severity raised
        AlertAcknowledgedEvent,  # 20
        AlertResolvedEvent,  # 30
        ThresholdExceededEvent,  # 40: pending again
        AlertResolvedEvent,  # 45: by hand (from pending)
    ]
    exceeded, fired, raised = events[:3]
    assert isinstance(exceeded, ThresholdExceededEvent)
    assert (exceeded.value, exceeded.threshold, exceeded.condition) == (85, 80.0, ">")
    assert isinstance(fired, AlertTriggeredEvent) and fired.severity == "warning"
    assert isinstance(raised, AlertTriggeredEvent) and raised.severity == "critical"
    resolved = events[-1]
    assert isinstance(resolved, AlertResolvedEvent)
    assert (resolved.by, resolved.comment, resolved.notify) == ("bob", "done", False)


def test_events_travel_on_the_projects_alert_channel_and_are_json_ready() -> None:
    events = published([(0, 95), (10, 95), (20, 50)])

    assert {e.channel() for e in events} == {"alerts.acme"}
    for event in events:
        data = dataclasses.asdict(event)
        json.dumps(data, allow_nan=False)
        assert data["instance_id"] == instance_id("rule-1", ("web-1",))
        assert data["tags"] == {"host": "web-1"}


def test_a_pending_alert_that_clears_publishes_only_the_crossing() -> None:
    assert [type(e) for e in published([(0, 95), (5, 50)])] == [ThresholdExceededEvent]
