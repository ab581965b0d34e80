"""The delivery worker: the ticking task behind notifications, and the Outbox port.

Every tick (or sooner when woken) it lets the router flush due groups and escalations,
then claims due deliveries in the store, atomically, so of several Vigil processes
sharing a store only one attempts each; a claim lapses after `claim_seconds`, so a
delivery held by a process that died is attempted again by whoever comes next, with the
same idempotency id. Failed attempts are retried with exponential backoff and jitter,
honouring Retry-After, up to `max_attempts`, then the delivery is dead. A receiver that
answers 410 Gone says it will never take a message again: its channel is disabled, with
the reason, and the project's admins hear it (NotificationChannelDisabledEvent); what was
still pending for it dies without an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from domain.events import Event
from domain.notifications import (
    Attempt,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryState,
    NotificationChannelDisabledEvent,
    NotificationSentEvent,
    NotificationStore,
)
from domain.notifications.runtime import Dispatcher
from domain.ports import Clock
from infra.notifications.result import SendResult

__all__ = ["DeliveryWorker", "RetryPolicy", "Sender"]

logger = logging.getLogger("vigil.notifications")

Publish = Callable[[Event], Awaitable[None]]
BATCH = 50
GONE = 410


_HTTP = frozenset({ChannelKind.WEBHOOK, ChannelKind.SLACK})


class Sender(Protocol):
    async def send(self, channel: Channel, delivery: Delivery) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 10.0
    max_seconds: float = 3_600.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """After failed attempt number `attempt` (1-based): base * 2^(attempt-1), capped,
        with "equal jitter" (half fixed, half random); never sooner than Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        delay: float = ceiling / 2 + random.uniform(0, ceiling / 2)
        return max(delay, retry_after or 0.0)


class DeliveryWorker:
    def __init__(
        self,
        store: NotificationStore,
        dispatcher: Dispatcher,
        senders: Mapping[ChannelKind, Sender],
        clock: Clock,
        *,
        retry: RetryPolicy,
        tick_seconds: float = 1.0,
        claim_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.retry = retry
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._senders = senders
        self._tick_seconds = tick_seconds
        self._claim_us = round(claim_seconds * 1_000_000)
        self._publish: Publish | None = None
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        dispatcher.wake = self.wake

    async def start(self, publish: Publish) -> None:
        self._publish = publish
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._woken.set()

    async def tick(self) -> int:
        """Flush what the router has due, then attempt every due delivery; the number of
        attempts made."""
        await self.dispatcher.tick()
        return await self.run_due()

    async def run_due(self) -> int:
        attempted = 0
        while True:
            now = self.clock.now_us()
            claimed = await self.store.claim_due(
                self.owner, now_us=now, until_us=now + self._claim_us, limit=BATCH
            )
            for delivery in claimed:
                await self._attempt(delivery)
            attempted += len(claimed)
            if len(claimed) < BATCH:
                return attempted

    async def send_new(self, delivery: Delivery) -> Delivery:
        # Stored with this worker's claim: the loop (here or in another process) cannot
        # claim it between the insert and the attempt, so the caller sees its own attempt.
        claimed = replace(
            delivery, claimed_by=self.owner, claim_until_us=self.clock.now_us() + self._claim_us
        )
        await self.store.add_delivery(claimed)
        return await self._attempt(claimed)

    async def _attempt(self, delivery: Delivery) -> Delivery:
        channel = await self.store.get_channel(delivery.project, delivery.channel_id)
        started, at_us = time.perf_counter(), self.clock.now_us()
        if channel is None:
            result = SendResult(error="the channel was deleted", retryable=False)
        elif channel.disabled_reason:
            error = f"not sent: the channel is disabled ({channel.disabled_reason})"
            result = SendResult(error=error, retryable=False)
        else:
            try:
                result = await self._senders[channel.kind].send(channel, delivery)
            except Exception as exc:  # a sender bug must not stop the worker
                logger.exception("sending delivery %s failed", delivery.id)
                result = SendResult(error=f"internal error ({type(exc).__name__})")
        attempt = Attempt(
            at_us=at_us,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            status_code=result.status_code,
            error=result.error,
        )
        number = len(delivery.attempts) + 1
        if result.ok:
            state, next_us = DeliveryState.DELIVERED, at_us
        elif not result.retryable or number >= self.retry.max_attempts:
            state, next_us = DeliveryState.DEAD, at_us
        else:
            delay = self.retry.delay(number, result.retry_after)
            state, next_us = DeliveryState.PENDING, self.clock.now_us() + round(delay * 1e6)
        finished = delivery.after(attempt, state=state, next_attempt_us=next_us)
        if not await self.store.finish(finished, self.owner):
            logger.warning("delivery %s: the claim lapsed during the attempt", delivery.id)
        logger.info(
            "delivery %s to channel %s: attempt %d %s",
            delivery.id,
            delivery.channel_id,
            number,
            "delivered" if result.ok else f"failed ({result.error}), {state.value}",
        )
        await self._announce(channel, finished, attempt)
        if channel is not None and result.status_code == GONE and channel.kind in _HTTP:
            await self._disable(channel, delivery, at_us)
        return finished

    async def _disable(self, channel: Channel, delivery: Delivery, at_us: int) -> None:
        """Disable the channel whose receiver answered 410 Gone, once, whatever else
        changed it meanwhile (compare-and-set, read again on a conflict)."""
        reason = f"the receiver answered HTTP 410 Gone to delivery {delivery.id}"
        current: Channel | None = channel
        for _ in range(5):
            if current is None or current.disabled_reason:
                return  # deleted, or disabled by another attempt already
            disabled = replace(
                current,
                enabled=False,
                disabled_reason=reason,
                disabled_at_us=at_us,
                version=current.version + 1,
                updated_at_us=at_us,
            )
            if await self.store.save_channel(disabled, expected_version=current.version):
                break
            current = await self.store.get_channel(channel.project, channel.id)
        else:
            logger.warning("channel %s: could not be disabled after a 410", channel.id)
            return
        self.dispatcher.configs.invalidate(channel.project)
        logger.warning("channel %s of project %s disabled: %s", channel.id, channel.project, reason)
        if self._publish is not None:
            await self._publish(
                NotificationChannelDisabledEvent(
                    project=channel.project,
                    channel_id=channel.id,
                    channel_name=channel.name,
                    kind=channel.kind.value,
                    reason=reason,
                    delivery_id=delivery.id,
                    at_us=at_us,
                )
            )

    async def _announce(
        self, channel: Channel | None, delivery: Delivery, attempt: Attempt
    ) -> None:
        if self._publish is None:
            return
        await self._publish(
            NotificationSentEvent(
                project=delivery.project,
                delivery_id=delivery.id,
                channel_id=delivery.channel_id,
                channel_name=channel.name if channel else "",
                kind=channel.kind.value if channel else "",
                reason=delivery.reason.value,
                status=delivery.message.status,
                title=delivery.message.title,
                state=delivery.state.value,
                attempt=len(delivery.attempts),
                status_code=attempt.status_code,
                latency_ms=attempt.latency_ms,
                error=attempt.error,
                at_us=attempt.at_us,
            )
        )

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._tick_seconds)
            self._woken.clear()
            try:
                await self.tick()
            except Exception:  # the store may be down for a moment: try next tick
                logger.exception("notification tick failed")
