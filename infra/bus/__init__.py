"""Event bus adapter: JSON messages over broadcaster, memory:// or redis://, bounded queues."""

from infra.bus.bus import EventBus
from infra.bus.errors import BusError, BusGap, BusUnavailable, InvalidMessage
from infra.bus.events import ORIGIN, EventStream, LiveStreams
from infra.bus.subscription import Subscription

__all__ = [
    "ORIGIN",
    "BusError",
    "BusGap",
    "BusUnavailable",
    "EventBus",
    "EventStream",
    "InvalidMessage",
    "LiveStreams",
    "Subscription",
]
