"""EventBus: the event publisher and subscriber ports, over broadcaster."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit

from broadcaster import Broadcast

from infra.bus.codec import Signer, encode
from infra.bus.errors import BusUnavailable
from infra.bus.fanout import Fanout
from infra.bus.subscription import Subscription

if TYPE_CHECKING:
    from infra.bus.redis_backend import RedisBackend

__all__ = ["EventBus"]

_log = logging.getLogger(__name__)


class EventBus:
    """Publish dicts to named channels and subscribe to them, in one process or several.

    `url` is `memory://` (one process) or `redis://host:port/db` (`rediss://` for TLS;
    several processes). Redis pub/sub channels are global to the server: the db number
    does not separate them.

        async with EventBus("redis://127.0.0.1:6379/0", queue_size=1000) as bus:
            async with bus.subscribe("alerts") as alerts:  # returns once subscribed
                await bus.publish("alerts", {"id": 1})
                async for message in alerts:  # {"id": 1}, ...
                    ...

    Every message is encoded as JSON with orjson, on the memory backend too, and each
    subscriber gets its own decoded dict. All the local subscribers of a channel share one
    broadcaster subscription; each has a buffer of `queue_size` messages from which the
    oldest message is dropped when full (see `Subscription`), so a slow subscriber neither
    grows memory nor slows the others. `publish()` is one direct await on the backend.

    With Redis, the bus reconnects by itself after an outage and re-subscribes every
    channel that still has local subscribers. Messages published during the outage are
    lost: each outage increments `gaps` (and `Subscription.gaps` of each subscriber then
    present), and once the channels are subscribed again `on_gap(channels)` is called
    with those channels, if there are any. `on_gap` runs in the listener: it must not block.
    The bus starts even when Redis is down: `healthy` stays False and `ping()`, `publish()`
    and new subscriptions raise `BusUnavailable` until Redis answers.

    `timeout` bounds each Redis operation (connect, read, write, subscription confirmation);
    `max_backoff` caps the delay between reconnection attempts; after `ping_interval`
    seconds of silence the listener sends PING, and reconnects if the next interval brings
    no answer (a frozen server or a dead network path).

    With a `secret` and Redis, every message is signed (HMAC-SHA256 over channel and text, see
    `Signer`) and every received message checked: one unsigned or badly signed (published
    straight into Redis by someone without the secret) is dropped and counted in
    `rejected`. Every instance sharing the Redis must have the same secret. Without one,
    messages are neither signed nor checked (tests of the bus itself).
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 1000,
        timeout: float = 5.0,
        max_backoff: float = 5.0,
        ping_interval: float = 5.0,
        on_gap: Callable[[frozenset[str]], object] | None = None,
        secret: bytes | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        scheme = urlsplit(url).scheme
        self._redis: RedisBackend | None = None
        if scheme == "memory":
            broadcast = Broadcast(url)
        elif scheme in ("redis", "rediss"):
            # Imported here: redis-py is ~10 MB of a server's memory that memory:// never uses.
            from infra.bus.redis_backend import RedisBackend

            self._redis = RedisBackend(
                url,
                timeout=timeout,
                max_backoff=max_backoff,
                ping_interval=ping_interval,
                on_lost=self._lost,
                on_restored=self._restored,
            )
            broadcast = Broadcast(backend=self._redis)
        else:
            raise ValueError(f"unsupported event bus scheme {scheme!r}: use memory:// or redis://")
        self.backend: Literal["memory", "redis"] = "memory" if self._redis is None else "redis"
        self.queue_size = queue_size
        self._broadcast = broadcast
        # memory:// carries messages within this process: nothing to authenticate.
        self._signer = Signer(secret) if secret is not None and self._redis is not None else None
        self._fanout = Fanout(
            broadcast, confirm=self._confirm, gate=self._check_available, signer=self._signer
        )
        self._on_gap = on_gap
        self._state: Literal["new", "open", "closed"] = "new"

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        if self._state != "new":
            raise RuntimeError("an EventBus is connected once")
        try:
            await self._broadcast.connect()
        except BaseException:  # cancelled while connecting
            self._state = "closed"
            if self._redis is not None:
                await self._redis.disconnect()
            raise
        self._state = "open"
        if not self.healthy:
            _log.warning("event bus started without %s; it keeps retrying", self.backend)

    async def disconnect(self) -> None:
        """End every subscription and close the backend. Safe to call more than once."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        await self._fanout.close()
        await self._broadcast.disconnect()
        await asyncio.sleep(0)  # let broadcaster's cancelled listener task finish

    @property
    def healthy(self) -> bool:
        """Open and, with Redis, connected with every channel subscribed."""
        return self._state == "open" and (self._redis is None or self._redis.healthy)

    async def ping(self) -> str:
        """Return the backend and its version ("memory", "redis 7.0.15").

        Raise `BusUnavailable` if the bus is not open, the backend does not answer, or
        the listener is not subscribed: a readiness check.
        """
        if self._state != "open":
            raise BusUnavailable("event bus is not open")
        if self._redis is None:
            return "memory"
        return await self._redis.ping()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send `message` to the subscribers of `channel`, here and in the other processes.

        Raise `InvalidMessage` (a `TypeError`) if JSON cannot carry `message`, and
        `BusUnavailable` if the backend cannot be reached. Delivery is at most once.

        On the memory backend a channel nobody in this process listens to is skipped
        before encoding: its message could reach no one (a 5,000-point batch costs
        ~0.6 ms to encode), so it is not checked either.
        """
        _check_channel(channel)
        if self._redis is None and not self._fanout.serves(channel):
            if self._state != "open":
                raise BusUnavailable("event bus is not open")
            return
        data = encode(message)
        if self._signer is not None:
            data = self._signer.sign(channel, data)
        if self._state != "open":
            raise BusUnavailable("event bus is not open")
        await self._broadcast.publish(channel, data)

    def subscribe(
        self,
        channel: str,
        *,
        queue_size: int | None = None,
        on_attached: Callable[[], object] | None = None,
    ) -> Subscription:
        """The messages published to `channel` from now on (see `Subscription`).

        Nothing happens until the subscription is entered or iterated; that raises
        `BusUnavailable` if the bus is not open or not healthy. `on_attached()` is called
        once the backend serves the subscription: every message published after it reaches
        this subscriber (`EventStream` counts client subscriptions with it).
        """
        _check_channel(channel)
        size = self.queue_size if queue_size is None else queue_size
        if size < 1:
            raise ValueError("queue_size must be at least 1")
        return Subscription(self._fanout, self._fanout.inbox(channel, size), on_attached)

    @property
    def channels(self) -> dict[str, int]:
        """The channels subscribed by this bus, with their number of local subscribers."""
        return self._fanout.counts()

    @property
    def dropped(self) -> int:
        """Messages dropped from full subscriber buffers, in total."""
        return self._fanout.totals.dropped

    @property
    def gaps(self) -> int:
        """Backend outages survived; messages published during one are lost."""
        return self._fanout.totals.gaps

    @property
    def invalid(self) -> int:
        """Received messages skipped by subscribers because they were not JSON objects."""
        return self._fanout.totals.invalid

    @property
    def rejected(self) -> int:
        """Received messages dropped because they were unsigned or badly signed."""
        return self._fanout.totals.rejected

    def __repr__(self) -> str:
        health = "healthy" if self.healthy else "unhealthy"
        return f"<EventBus {self.backend} {self._state} {health}>"

    def _check_available(self) -> None:
        if self._state != "open":
            raise BusUnavailable("event bus is not open")
        if not self.healthy:
            raise BusUnavailable(f"event bus unavailable: not connected to {self.backend}")

    async def _confirm(self, channel: str) -> None:
        if self._redis is not None:
            await self._redis.wait_subscribed(channel)

    def _lost(self) -> None:
        self._fanout.mark_gap()

    def _restored(self, channels: frozenset[str]) -> None:
        if self._on_gap is None or not channels:
            return
        try:
            self._on_gap(channels)
        except Exception:
            _log.exception("event bus on_gap callback failed")


def _check_channel(channel: str) -> None:
    if not isinstance(channel, str) or not channel:
        raise ValueError("a channel name is a non-empty string")
