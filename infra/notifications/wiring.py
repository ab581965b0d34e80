"""Notifications assembled from the settings: the router, the worker and what they use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.events import Event
from domain.notifications import ChannelKind, NotificationStore
from domain.notifications.messages import DEFAULT_BODY, DEFAULT_TITLE
from domain.notifications.runtime import Dispatcher
from domain.ports import Clock
from infra.notifications.guard import TargetGuard
from infra.notifications.http import HttpSender
from infra.notifications.mail import EmailSender
from infra.notifications.templates import JinjaRenderer, TemplateBudget
from infra.notifications.worker import DeliveryWorker, RetryPolicy

__all__ = ["Notifications"]


class Notifications:
    """Build with the store, `start` once the message bus exists, `close` before the store."""

    def __init__(
        self,
        store: NotificationStore,
        clock: Clock,
        *,
        allow_loopback: bool = False,
        tick_seconds: float = 1.0,
        timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        template_budget: TemplateBudget | None = None,
        template_workers: int = 1,
    ) -> None:
        guard = TargetGuard(allow_loopback=allow_loopback)
        renderer = JinjaRenderer(
            template_budget, workers=template_workers, trusted=(DEFAULT_TITLE, DEFAULT_BODY)
        )
        dispatcher = Dispatcher(store, renderer, clock)
        self._http = HttpSender(guard, timeout=timeout_seconds, clock=clock)
        mail = EmailSender(guard, timeout=timeout_seconds)
        self.mail = mail  # its `files` loader is set by the reports' wiring
        self.worker = DeliveryWorker(
            store,
            dispatcher,
            {
                ChannelKind.WEBHOOK: self._http,
                ChannelKind.SLACK: self._http,
                ChannelKind.EMAIL: mail,
            },
            clock,
            retry=retry or RetryPolicy(),
            tick_seconds=tick_seconds,
            # Longer than any attempt can take: a live worker's claim never lapses under it.
            claim_seconds=timeout_seconds * 2 + 5,
        )
        self.store = store
        self.clock = clock
        self.renderer = renderer
        self.guard = guard
        self.dispatcher = dispatcher

    async def start(self, publish: Callable[[Event], Awaitable[None]]) -> None:
        await self.worker.start(publish)

    async def close(self) -> None:
        await self.worker.close()
        await self._http.aclose()
        await self.renderer.close()
