"""A broadcaster backend for Redis pub/sub that confirms subscriptions and reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any, Literal

from broadcaster import BroadcastBackend, Event
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from infra.bus.errors import BusUnavailable
from infra.bus.tasks import raise_if_cancelled, stop

__all__ = ["RedisBackend"]

_log = logging.getLogger(__name__)

_FIRST_DELAY = 0.05  # seconds before the first reconnection attempt; doubles up to max_backoff
_PUBLISH_CONNECTIONS = 32  # at most, per bus

_Command = tuple[Literal["subscribe", "unsubscribe"], str]


class RedisBackend(BroadcastBackend):
    """Redis pub/sub for `broadcaster.Broadcast`, with what broadcaster's own backend lacks.

    - `subscribe()` and `unsubscribe()` record the change and queue the command without
      waiting, so they can neither fail nor be interrupted half-way; `wait_subscribed()`
      returns once the server has confirmed the subscription.
    - One listener task owns the subscriber connection. If it drops, or stays silent to a
      PING for `ping_interval` seconds, the listener reconnects with jittered exponential
      backoff (50 ms doubling up to `max_backoff`) and re-subscribes every channel still
      wanted. Redis keeps nothing for absent subscribers: messages published meanwhile are
      lost. `on_lost()` is called when a healthy connection drops, `on_restored(channels)`
      once the next one has re-subscribed.
    - Publishing uses its own connection pool: it is one direct round trip, never queued
      behind the listener, and raises `BusUnavailable` when Redis cannot be reached.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_backoff: float = 5.0,
        ping_interval: float = 5.0,
        on_lost: Callable[[], None] | None = None,
        on_restored: Callable[[frozenset[str]], None] | None = None,
    ) -> None:
        # Publishing: a bounded pool, so that concurrent publishers share connections
        # instead of opening one each (measured: 5,000 concurrent publishes ran at ~400/s on
        # the unbounded default pool, ~3,000-5,000/s on this one). No socket_timeout: with
        # one, redis-py 7 wraps every send in asyncio.wait_for, ~25% slower on Python 3.11;
        # publish() and ping() bound the whole call with asyncio.timeout instead. One retry
        # replaces a connection that a Redis restart left stale.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=_PUBLISH_CONNECTIONS,
            timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._client = Redis.from_pool(pool)
        # Listening: redis-py's reconnection is off, so that every drop is seen here.
        self._listener_client = Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._timeout = timeout
        self._max_backoff = max_backoff
        self._ping_interval = ping_interval
        self._on_lost = on_lost
        self._on_restored = on_restored
        self._channels: set[str] = set()  # wanted by broadcaster
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._inflight: dict[str, int] = {}  # SUBSCRIBEs not yet confirmed, this session
        self._unconfirmed: set[str] = set()  # the session's first SUBSCRIBE, not yet confirmed
        self._session_channels: frozenset[str] = frozenset()
        self._commands: asyncio.Queue[_Command] | None = None  # None: no session
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()
        self._healthy = False
        self._was_healthy = False  # the current session has been healthy
        self._lost = False  # a healthy connection dropped, and no session has restored it
        self._closing = False

    @property
    def healthy(self) -> bool:
        """Connected, and every channel wanted at connection time is subscribed."""
        return self._healthy

    async def connect(self) -> None:
        """Start the listener; wait for its first attempt, which may fail (see `healthy`)."""
        self._closing = False
        self._task = asyncio.create_task(self._listen(), name="bus-redis-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), self._timeout)

    async def disconnect(self) -> None:
        self._closing = True
        if self._task is not None:
            await stop(self._task, self._timeout)
            self._task = None
        await self._client.aclose()
        await self._listener_client.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        self._confirmations[channel] = asyncio.get_running_loop().create_future()
        if self._commands is not None:
            self._inflight[channel] = self._inflight.get(channel, 0) + 1
            self._commands.put_nowait(("subscribe", channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        confirmation = self._confirmations.pop(channel, None)
        if confirmation is not None:
            confirmation.cancel()
        if self._commands is not None:
            self._commands.put_nowait(("unsubscribe", channel))

    async def wait_subscribed(self, channel: str) -> None:
        """Return once Redis has confirmed the subscription to `channel`."""
        confirmation = self._confirmations.get(channel)
        if confirmation is None:
            raise BusUnavailable(f"channel {channel!r} is not subscribed")
        try:
            await asyncio.wait_for(asyncio.shield(confirmation), self._timeout)
        except TimeoutError:
            raise BusUnavailable(
                f"event bus unavailable: Redis did not confirm the subscription to {channel!r}"
            ) from None

    async def publish(self, channel: str, message: Any) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.publish(channel, message)
        except (RedisError, OSError) as exc:  # OSError includes TimeoutError
            raise BusUnavailable(f"event bus unavailable: cannot publish to {channel!r}") from exc

    async def next_published(self) -> Event:
        return await self._events.get()

    async def ping(self) -> str:
        """Return "redis <version>"; raise `BusUnavailable` unless Redis answers and the
        listener is subscribed."""
        try:
            async with asyncio.timeout(self._timeout):
                info = await self._client.info("server")
        except (RedisError, OSError) as exc:
            raise BusUnavailable("event bus unavailable: Redis does not answer") from exc
        if not self._healthy:
            raise BusUnavailable("event bus unavailable: the listener is reconnecting to Redis")
        return f"redis {info.get('redis_version', 'unknown')}"

    async def _listen(self) -> None:
        attempt = 0
        while True:
            raise_if_cancelled()
            self._was_healthy = False
            error: BaseException | None = None
            try:
                await self._session()
            except (RedisError, OSError) as exc:
                error = exc
            except Exception as exc:  # a bug: log it, and keep the bus alive
                _log.exception("event bus listener failed")
                error = exc
            self._tried.set()
            if self._was_healthy:  # it had been serving: say so once, and retry quickly
                attempt = 0
                _log.warning("event bus lost its Redis connection (%s); reconnecting", error)
            else:
                _log.debug("event bus cannot reach Redis (%s); retrying", error)
            delay = min(self._max_backoff, _FIRST_DELAY * 2 ** min(attempt, 16))
            attempt += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _session(self) -> None:
        pubsub = self._listener_client.pubsub()
        writer: asyncio.Task[None] | None = None
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            raise_if_cancelled()
            channels = self._session_channels = frozenset(self._channels)
            self._inflight = dict.fromkeys(channels, 1)
            self._unconfirmed = set(channels)
            commands: asyncio.Queue[_Command] = asyncio.Queue()
            self._commands = commands  # from here on, changes are queued for this session
            if channels:
                await pubsub.subscribe(*channels)
                raise_if_cancelled()
            else:
                self._restore()
            writer = asyncio.create_task(self._write(pubsub, commands), name="bus-redis-writer")
            await self._read(pubsub, writer)
        finally:
            self._commands = None
            if writer is not None:
                await stop(writer, self._timeout)
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            self._down()

    async def _write(self, pubsub: PubSub, commands: asyncio.Queue[_Command]) -> None:
        while True:
            kind, channel = await commands.get()
            if kind == "subscribe":
                await pubsub.subscribe(channel)
            else:
                await pubsub.unsubscribe(channel)
            raise_if_cancelled()

    async def _read(self, pubsub: PubSub, writer: asyncio.Task[None]) -> None:
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self._ping_interval)
            if writer.done():
                writer.result()  # raises the writer's error
                raise RedisError("the subscriber connection's writer stopped")
            if message is None:  # silence: is the server still there?
                if awaiting_pong:
                    raise RedisTimeoutError("Redis did not answer PING")
                await pubsub.ping()
                raise_if_cancelled()
                awaiting_pong = True
                continue
            awaiting_pong = False
            kind = message["type"]
            if kind == "message":
                channel, data = _text(message["channel"]), _text(message["data"])
                self._events.put_nowait(Event(channel=channel, message=data))
            elif kind == "subscribe":
                self._confirmed(_text(message["channel"]))

    def _confirmed(self, channel: str) -> None:
        left = self._inflight.get(channel, 0) - 1
        if left > 0:  # a later SUBSCRIBE of the channel is still unanswered
            self._inflight[channel] = left
            return
        self._inflight.pop(channel, None)
        confirmation = self._confirmations.get(channel)
        if confirmation is not None and not confirmation.done():
            confirmation.set_result(None)
        if channel in self._unconfirmed:
            self._unconfirmed.discard(channel)
            if not self._unconfirmed:
                self._restore()

    def _restore(self) -> None:
        self._healthy = self._was_healthy = True
        self._tried.set()
        if self._lost:
            self._lost = False
            _log.warning("event bus reconnected to Redis; messages published meanwhile are lost")
            if self._on_restored is not None:
                self._on_restored(self._session_channels)

    def _down(self) -> None:
        was_healthy, self._healthy = self._healthy, False
        if was_healthy and not self._closing:
            self._lost = True
            if self._on_lost is not None:
                self._on_lost()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
