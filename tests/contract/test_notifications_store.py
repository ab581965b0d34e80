"""The NotificationStore contract: every adapter keeps channels, policies, silences and
deliveries the same way, and hands each due delivery to exactly one claimant."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from domain.notifications import (
    Attempt,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryReason,
    DeliveryState,
    Message,
    NotificationStore,
    Policy,
    Silence,
)
from domain.notifications.policy import parse_matcher


def channel(id: str = "c1", project: str = "demo", version: int = 1) -> Channel:
    return Channel(
        id=id,
        project=project,
        name="hook",
        kind=ChannelKind.WEBHOOK,
        url="https://8.8.8.8/x",
        secret="k",
        recipients=("a@b.c",),
        version=version,
        created_at_us=int(id.removeprefix("c")),
    )


def delivery(id: str, *, due: int = 0, project: str = "demo", created: int = 0) -> Delivery:
    message = Message("t", "b", "firing", "g", {"host": "a"}, ({"alertname": "x"},))
    return Delivery(id, project, "c1", DeliveryReason.NOTIFICATION, message, created, due)


async def test_channels_compare_and_set_and_stay_in_their_project(
    notifications: NotificationStore,
) -> None:
    await notifications.save_channel(channel("c1"))
    await notifications.save_channel(channel("c2"))
    assert await notifications.get_channel("demo", "c1") == channel("c1")
    assert await notifications.get_channel("other", "c1") is None
    assert not await notifications.save_channel(channel("c1", project="other"))
    assert await notifications.save_channel(channel("c1", version=2), expected_version=1)
    assert not await notifications.save_channel(channel("c1", version=3), expected_version=1)
    assert [c.id for c in await notifications.list_channels("demo")] == ["c1", "c2"]
    assert not await notifications.delete_channel("other", "c1")
    assert await notifications.delete_channel("demo", "c1")
    assert [c.id for c in await notifications.list_channels("demo")] == ["c2"]


async def test_policies_and_silences(notifications: NotificationStore) -> None:
    assert await notifications.get_policy("demo") is None
    policy = Policy.parse({"route": {"channels": ["c1"], "group_by": ["host"]}}, version=3)
    await notifications.save_policy("demo", policy)
    assert await notifications.get_policy("demo") == policy
    silence = Silence("s1", "demo", (parse_matcher('host="a"'),), 10, 20, "al", "", 5)
    await notifications.save_silence(silence)
    await notifications.save_silence(replace(silence, id="s2", created_us=6))
    await notifications.save_silence(silence.expired(12))
    assert [s.id for s in await notifications.list_silences("demo")] == ["s2", "s1"]
    assert await notifications.get_silence("demo", "s1") == silence.expired(12)
    assert await notifications.get_silence("other", "s1") is None


async def test_a_due_delivery_is_claimed_once_and_finished_only_by_its_claimant(
    notifications: NotificationStore,
) -> None:
    await notifications.add_delivery(delivery("d1", due=100))
    await notifications.add_delivery(delivery("d2", due=300))
    assert await notifications.claim_due("w1", now_us=50, until_us=1000, limit=10) == []
    claims = await asyncio.gather(
        *(notifications.claim_due(f"w{n}", now_us=100, until_us=1000, limit=10) for n in range(4))
    )
    won = [c for c in claims if c]
    assert len(won) == 1 and [d.id for d in won[0]] == ["d1"]
    owner = won[0][0].claimed_by
    done = won[0][0].after(
        Attempt(at_us=120, latency_ms=1.5, status_code=200), state=DeliveryState.DELIVERED,
        next_attempt_us=120,
    )  # fmt: skip
    assert not await notifications.finish(done, "someone-else")
    assert await notifications.finish(done, owner)
    stored = await notifications.get_delivery("demo", "d1")
    assert stored is not None and stored.state is DeliveryState.DELIVERED
    assert stored.attempts == (Attempt(at_us=120, latency_ms=1.5, status_code=200),)
    assert stored.message == delivery("d1").message
    assert await notifications.claim_due("w9", now_us=2000, until_us=3000, limit=10) != []


async def test_a_lapsed_claim_is_taken_by_the_next_worker(notifications: NotificationStore) -> None:
    await notifications.add_delivery(delivery("d1"))
    (first,) = await notifications.claim_due("dead-process", now_us=10, until_us=100, limit=5)
    assert await notifications.claim_due("w2", now_us=99, until_us=200, limit=5) == []
    assert await notifications.claim("demo", "d1", "w2", now_us=99, until_us=200) is None
    (again,) = await notifications.claim_due("w2", now_us=100, until_us=200, limit=5)
    assert (again.id, again.claimed_by) == ("d1", "w2")
    assert not await notifications.finish(first, "dead-process")


async def test_deliveries_list_newest_first_by_state_and_project(
    notifications: NotificationStore,
) -> None:
    for n in range(3):
        await notifications.add_delivery(delivery(f"d{n}", created=n))
    await notifications.add_delivery(delivery("x", project="other"))
    claimed = await notifications.claim("demo", "d1", "w", now_us=0, until_us=10)
    assert claimed is not None
    # Held: not even the same worker claims it again (a second attempt would run at once).
    assert await notifications.claim("demo", "d1", "w", now_us=5, until_us=10) is None
    dead = claimed.after(
        Attempt(at_us=1, latency_ms=1, error="HTTP 500"), state=DeliveryState.DEAD,
        next_attempt_us=1,
    )  # fmt: skip
    assert await notifications.finish(dead, "w")
    assert [d.id for d in await notifications.list_deliveries("demo")] == ["d2", "d1", "d0"]
    dead_ones = await notifications.list_deliveries("demo", state=DeliveryState.DEAD)
    assert [d.id for d in dead_ones] == ["d1"]
    assert [d.id for d in await notifications.list_deliveries("demo", first=1)] == ["d2"]
    assert await notifications.get_delivery("other", "d1") is None
    assert await notifications.claim("demo", "d1", "w", now_us=100, until_us=200) is None
