"""From points to deliveries through the real app, on a clock the test moves: grouping
(group_wait, group_interval, repeat_interval), silences, mute timings, inhibition and
escalation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from infra.notifications import DeliveryWorker
from tests.adjustable_clock import AdjustableClock
from tests.notifications_support import (
    ACK,
    CONFIGURE,
    CREATE_ALERT,
    CREATE_POINTS,
    DELIVERIES,
    EXPIRE,
    POLICY,
    SILENCE,
    Receiver,
    receiver,
    webhook,
)
from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")


@dataclass
class Rig:
    vigil: RunningVigil
    clock: AdjustableClock
    worker: DeliveryWorker
    hook: Receiver
    channel: str

    async def points(self, metric: str, **hosts: float) -> None:
        raw = [{"name": metric, "value": v, "tags": {"host": h}} for h, v in hosts.items()]
        await self.vigil.ok(CREATE_POINTS, {"p": "demo", "points": raw}, auth=ADMIN)

    async def alert(self, metric: str, name: str, severity: str = "CRITICAL") -> str:
        await self.points(metric, seed=0.0)  # the metric exists
        rule = {"name": name, "metric": metric, "threshold": 90, "aggregation": "LAST",
                "groupBy": ["host"], "severity": severity}  # fmt: skip
        made = await self.vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=ADMIN)
        found: str = made["createAlert"]["id"]
        return found

    async def policy(self, policy: dict[str, Any]) -> None:
        await self.vigil.ok(POLICY, {"p": "demo", "policy": policy}, auth=ADMIN)

    async def after(self, seconds: float) -> list[dict[str, Any]]:
        """Move the clock, tick, and answer the deliveries stored by that tick."""
        before = await self.deliveries()
        self.clock.advance(seconds)
        await self.worker.tick()
        known = {d["id"] for d in before}
        return [d for d in await self.deliveries() if d["id"] not in known]

    async def deliveries(self) -> list[dict[str, Any]]:
        listed = await self.vigil.ok(DELIVERIES, {"p": "demo"}, auth=ADMIN)
        found: list[dict[str, Any]] = listed["notificationDeliveries"]
        return found


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    settings = make_settings(
        tmp_path, notify_allow_loopback=True, notify_tick_seconds=3600, alert_tick_seconds=3600
    )
    clock = AdjustableClock()
    with receiver(tmp_path) as hook:
        async with serve(settings, notifications_clock=clock) as vigil:
            worker = vigil.app.state.vigil.runtimes.notifications.worker
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook.url)}, auth=ADMIN)
            channel = made["configureNotification"]["id"]
            yield Rig(vigil, clock, cast(DeliveryWorker, worker), hook, channel)


async def test_group_wait_interval_repeat_and_resolve(rig: Rig) -> None:
    await rig.alert("cpu", "cpu high")
    await rig.points("cpu", **{"web-1": 95.0, "web-2": 97.0})
    assert await rig.after(29) == []  # group_wait: 30 s by default
    (first,) = await rig.after(2)
    assert (first["title"], first["status"]) == ("[FIRING:2] cpu high", "firing")
    assert first["state"] == "DELIVERED"
    assert "host=web-1" in first["body"] and "host=web-2" in first["body"]
    assert await rig.after(300) == []  # group_interval passed, nothing new
    await rig.points("cpu", **{"web-1": 10.0})  # web-1 resolves
    assert await rig.after(60) == []  # waits for the group's next interval
    (resolved,) = await rig.after(240)
    assert resolved["title"] == "[FIRING:1] cpu high"
    assert "RESOLVED cpu high host=web-1" in resolved["body"]
    (repeat,) = await rig.after(4 * 3600)  # repeat_interval: 4 h
    assert repeat["title"] == "[FIRING:1] cpu high"
    requests = rig.hook.wait_for(3)
    assert [r["headers"]["X-Vigil-Delivery"] for r in requests] == [
        first["id"],
        resolved["id"],
        repeat["id"],
    ]


async def test_routes_with_continue_and_group_by(rig: Rig) -> None:
    other = await rig.vigil.ok(
        CONFIGURE, {"p": "demo", "c": webhook(rig.hook.url, name="db team")}, auth=ADMIN
    )
    db = other["configureNotification"]["id"]
    await rig.policy(
        {
            "route": {
                "channels": [rig.channel],
                "group_by": ["host"],
                "group_wait": "10s",
                "routes": [
                    {"matchers": ['host=~"db-.*"'], "channels": [db], "continue": True},
                    {"matchers": ['host=~"db-.*"']},
                ],
            }
        }
    )
    await rig.alert("cpu", "cpu high")
    await rig.points("cpu", **{"db-1": 95.0, "web-1": 95.0})
    made = await rig.after(11)
    by_channel = sorted((d["channelId"] == db, d["body"].split()[3]) for d in made)
    # db-1 goes to the db team (continue) and on to the second route; web-1 to the root.
    assert by_channel == [(False, "host=db-1"), (False, "host=web-1"), (True, "host=db-1")]


async def test_silences_mute_until_expired(rig: Rig) -> None:
    await rig.alert("cpu", "cpu high")
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    made = await rig.vigil.ok(SILENCE, {"p": "demo", "m": ['host="web-1"'], "end": end}, auth=ADMIN)
    silence = made["createSilence"]
    assert (silence["state"], silence["matchers"]) == ("ACTIVE", ['host="web-1"'])
    await rig.points("cpu", **{"web-1": 95.0})
    assert await rig.after(31) == []
    expired = await rig.vigil.ok(EXPIRE, {"p": "demo", "id": silence["id"]}, auth=ADMIN)
    assert expired["expireSilence"]["state"] == "EXPIRED"
    (delivery,) = await rig.after(300)
    assert "host=web-1" in delivery["body"]


async def test_mute_timings_hold_notifications_in_their_hours(rig: Rig) -> None:
    # Tuesday 2026-12-01 03:00 UTC is 04:00 in Paris: inside the nightly mute.
    rig.clock.set(int(datetime(2026, 12, 1, 3, 0, tzinfo=UTC).timestamp() * 1e6))
    await rig.policy(
        {
            "route": {"channels": [rig.channel], "mute_time_intervals": ["nights"]},
            "mute_timings": [
                {
                    "name": "nights",
                    "time_intervals": [
                        {
                            "weekdays": ["monday:friday"],
                            "times": [{"start_time": "00:00", "end_time": "06:00"}],
                            "location": "Europe/Paris",
                        }
                    ],
                }
            ],
        }
    )
    await rig.alert("cpu", "cpu high")
    await rig.points("cpu", **{"web-1": 95.0})
    assert await rig.after(31) == []
    assert await rig.after(1800) == []  # 04:30 Paris: still muted
    (delivery,) = await rig.after(5400)  # 06:00 Paris: the mute is over
    assert delivery["title"] == "[FIRING:1] cpu high"


async def test_a_firing_source_inhibits_matching_targets(rig: Rig) -> None:
    await rig.policy(
        {
            "route": {"channels": [rig.channel], "group_by": ["alertname"]},
            "inhibit_rules": [
                {
                    "source_matchers": ['alertname="dc down"'],
                    "target_matchers": ['severity="warning"'],
                    "equal": ["host"],
                }
            ],
        }
    )
    await rig.alert("dc", "dc down")
    await rig.alert("cpu", "cpu warm", severity="WARNING")
    await rig.points("dc", **{"web-1": 99.0})
    await rig.points("cpu", **{"web-1": 95.0, "web-2": 95.0})
    made = {d["title"]: d["body"] for d in await rig.after(31)}
    assert set(made) == {"[FIRING:1] dc down", "[FIRING:1] cpu warm"}
    assert "host=web-2" in made["[FIRING:1] cpu warm"]
    assert "host=web-1" not in made["[FIRING:1] cpu warm"]  # inhibited by dc down on web-1


async def test_unacknowledged_alerts_escalate_to_a_further_channel(rig: Rig) -> None:
    pager = await rig.vigil.ok(
        CONFIGURE, {"p": "demo", "c": webhook(rig.hook.url, name="pager")}, auth=ADMIN
    )
    pager_id = pager["configureNotification"]["id"]
    await rig.policy(
        {
            "route": {
                "channels": [rig.channel],
                "group_by": ["host"],
                "escalate": {"after": "15m", "channels": [pager_id]},
            }
        }
    )
    alert_id = await rig.alert("cpu", "cpu high")
    await rig.points("cpu", **{"web-1": 95.0, "web-2": 95.0})
    first = await rig.after(31)
    assert {d["channelId"] for d in first} == {rig.channel} and len(first) == 2
    await rig.vigil.ok(ACK, {"p": "demo", "id": alert_id, "i": {"host": "web-1"}}, auth=ADMIN)
    assert await rig.after(600) == []
    (escalated,) = await rig.after(300)
    assert (escalated["channelId"], escalated["reason"]) == (pager_id, "escalation")
    assert escalated["title"] == "[FIRING:1] cpu high (escalated)"
    assert "host=web-2" in escalated["body"]
    assert await rig.after(3600) == []  # escalated once
