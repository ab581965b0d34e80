"""The notification ports a handler reaches through `Services.notifications`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Unavailable
from domain.notifications.dispatcher import Dispatcher
from domain.notifications.ports import MessageRenderer, NotificationStore, Outbox, TargetGuard
from domain.ports import Clock

__all__ = ["NotificationServices", "require"]


@dataclass(slots=True)
class NotificationServices:
    store: NotificationStore
    renderer: MessageRenderer
    guard: TargetGuard
    dispatcher: Dispatcher
    outbox: Outbox

    @property
    def clock(self) -> Clock:
        """The clock of the router and the worker (tests drive it)."""
        return self.dispatcher.clock


def require(found: NotificationServices | None) -> NotificationServices:
    if found is None:
        raise Unavailable("notifications are not configured in this process")
    return found
