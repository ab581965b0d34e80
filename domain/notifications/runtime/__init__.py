"""The notification runtime: the router that turns alert events into grouped deliveries."""

from domain.notifications.runtime.dispatcher import Dispatcher

__all__ = ["Dispatcher"]
