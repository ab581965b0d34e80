"""Health over time: SystemHealthChangedEvent when a status moves, and the probes of what only
events tell (notification delivery) or what Vigil runs itself (its periodic jobs).

The watcher asks GetSystemHealthQuery every interval and publishes an event when the
overall status or any component's status differs from the last answer, naming the
components that moved and each one's reason. Each instance watches its own components.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from domain.events import Event
from domain.messagebus import Ask
from domain.notifications.events import NotificationSentEvent
from domain.ports import Clock
from domain.system.events import SystemHealthChangedEvent
from domain.system.model import ComponentDegraded
from domain.system.queries import GetSystemHealthQuery
from domain.system.read_models import HealthCheckDto

__all__ = ["DeliveryHealth", "HealthWatcher", "JobsHealth", "observe_delivery"]

logger = logging.getLogger("vigil.health")

WINDOW_US = 600_000_000  # notification attempts older than 10 minutes no longer count


class HealthWatcher:
    def __init__(
        self,
        ask: Ask,
        publish: Callable[[Event], Awaitable[None]],
        clock: Clock,
        *,
        instance: str,
        interval_seconds: float,
    ) -> None:
        self._ask = ask
        self._publish = publish
        self._clock = clock
        self._instance = instance
        self._interval = interval_seconds
        self._last: HealthCheckDto | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.check()
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self) -> SystemHealthChangedEvent | None:
        """Ask once; publish and return the event if something moved (or, the first time,
        if anything is not ok)."""
        health: HealthCheckDto = await self._ask(GetSystemHealthQuery())
        last, self._last = self._last, health
        now = {c.name: c.status for c in health.components}
        before = {c.name: c.status for c in last.components} if last else {}
        changed = sorted(n for n in now if before.get(n, "ok" if last is None else "") != now[n])
        if last is not None and not changed and last.status == health.status:
            return None
        if last is None and health.status == "ok":
            return None
        event = SystemHealthChangedEvent(
            status=health.status,
            components=now,
            previous_status=last.status if last else "",
            reasons={c.name: c.detail for c in health.components if c.status != "ok"},
            changed=changed,
            instance=self._instance,
            at_us=self._clock.now_us(),
        )
        await self._publish(event)
        return event

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception:  # a failed look must not end the watching
                logger.exception("health check failed")


class DeliveryHealth:
    """The `notifications` component: degraded while deliveries fail. Fed by this instance's
    NotificationSentEvents (its worker's attempts)."""

    name = "notifications"

    def __init__(self, clock: Clock, *, failures: int = 3) -> None:
        self._clock = clock
        self._failures = failures
        self._recent: deque[tuple[int, str]] = deque(maxlen=50)  # (at, state)

    def observe(self, event: NotificationSentEvent) -> None:
        state = event.state if event.state == "dead" or not event.error else "failed"
        self._recent.append((event.at_us, state))

    async def check(self) -> str:
        cutoff = self._clock.now_us() - WINDOW_US
        recent = [state for at, state in self._recent if at >= cutoff]
        dead = recent.count("dead")
        if dead:
            raise ComponentDegraded(f"{dead} deliveries dead in the last 10 minutes")
        tail = recent[-self._failures :]
        if len(tail) == self._failures and all(s == "failed" for s in tail):
            raise ComponentDegraded(f"the last {self._failures} delivery attempts failed")
        return f"{len(recent)} attempts in the last 10 minutes"


class _Job(Protocol):
    name: str
    every_seconds: float

    def late(self, now_us: int) -> float: ...


class JobsHealth:
    """The `jobs` component: degraded while a periodic job is three turns late."""

    name = "jobs"

    def __init__(self, clock: Clock, jobs: Callable[[], list[_Job]]) -> None:
        self._clock = clock
        self._jobs = jobs

    async def check(self) -> str:
        now = self._clock.now_us()
        late = [(j.name, j.late(now)) for j in self._jobs()]
        behind = [f"{name} {seconds:.0f} s late" for name, seconds in late if seconds > 0]
        if behind:
            raise ComponentDegraded("; ".join(behind))
        return f"{len(late)} jobs on time"


async def observe_delivery(
    event: NotificationSentEvent, *, delivery_health: DeliveryHealth
) -> None:
    """The NotificationSentEvent handler feeding the `notifications` component."""
    delivery_health.observe(event)
