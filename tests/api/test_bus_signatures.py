"""Issue 12, item 18: access to Redis alone does not mean write access to live streams.

Two real apps share the real Redis bus; a viewer listens on one of them. Whoever can reach
Redis can PUBLISH on the channel the subscriber listens to: such messages (unsigned, signed
with another key, or a genuine message of another project's channel replayed onto this
one) reach no websocket and are counted, while the other instance's signed events arrive.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from domain.metrics.events import MetricCollectedEvent
from tests.support import RunningVigil, make_settings, serve, token, ws_client

REDIS_URL = "redis://127.0.0.1:6379/0"
SUB = """subscription($p: String!) { metricCollected(project: $p) { name value } }"""
CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""


@contextlib.asynccontextmanager
async def spy(*channels: str) -> AsyncIterator[Any]:
    """A plain Redis client subscribed to `channels`: what anyone with Redis access sees."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(*channels)
        for _ in channels:  # the confirmations
            await pubsub.get_message(timeout=5)
        yield client, pubsub
    finally:
        await pubsub.aclose()
        await client.aclose()


async def raw_of(pubsub: Any, channel: str) -> str:
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=10)
        assert message is not None, f"nothing published on {channel}"
        if message["channel"] == channel:
            text: str = message["data"]
            return text


async def test_messages_published_straight_into_redis_reach_no_subscriber(
    tmp_path: Path,
) -> None:
    project, other = f"bus-{uuid.uuid4().hex[:8]}", f"bus-{uuid.uuid4().hex[:8]}"
    channel = MetricCollectedEvent.channel_for(project)
    other_channel = MetricCollectedEvent.channel_for(other)
    admin = token(**{project: "admin", other: "admin"})

    async def send(via: RunningVigil, where: str, value: float) -> None:
        points = [{"name": "cpu", "value": value}]
        await via.ok(CREATE, {"p": where, "points": points}, auth=admin)

    settings = make_settings(tmp_path, bus_url=REDIS_URL)
    async with (
        serve(settings) as a,
        serve(make_settings(tmp_path / "b", bus_url=REDIS_URL)) as b,
        ws_client(b.ws_url, token(**{project: "viewer"})) as viewer,
        spy(channel, other_channel) as (redis, pubsub),
    ):
        op = await viewer.subscribe(SUB, {"p": project})
        await b.listening(channel)

        # A signed event from the other instance arrives.
        await send(a, project, 4242.5)
        message = await viewer.next_for(op)
        assert message["payload"]["data"]["metricCollected"] == [{"name": "cpu", "value": 4242.5}]
        genuine = await raw_of(pubsub, channel)
        await send(a, other, 4343.5)
        foreign = await raw_of(pubsub, other_channel)  # genuine, for another project

        # What someone with Redis access but not the secret can send.
        text = genuine[genuine.index("{") :].replace("4242.5", "666.5")
        wrong_key = hmac.new(b"k" * 32, channel.encode() + b"\0" + text.encode(), hashlib.sha256)
        forgeries = [text, wrong_key.hexdigest() + text, foreign]
        for forged in forgeries:
            assert await redis.publish(channel, forged) >= 2  # b's listener and the spy
            await raw_of(pubsub, channel)

        # Redis delivers a channel's messages in order: the next one the viewer gets is the
        # next genuine event, published after the forgeries.
        await send(a, project, 7.5)
        message = await viewer.next_for(op)
        assert message["payload"]["data"]["metricCollected"] == [{"name": "cpu", "value": 7.5}]

        vigil = b.app.state.vigil
        assert vigil.events.rejected == len(forgeries)
        assert a.app.state.vigil.events.rejected == 0  # a does not listen on this channel
        snapshot = vigil.monitor.snapshot(subscriptions=0)
        recorded = {p["name"]: p["value"] for p in snapshot}
        assert recorded["vigil.bus.rejected_messages_total"] == len(forgeries)
