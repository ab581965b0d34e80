"""Errors raised by the event bus adapter."""

from __future__ import annotations

from domain.errors import Unavailable

__all__ = ["BusError", "BusGap", "BusUnavailable", "InvalidMessage"]


class BusError(Exception):
    """Base class of the event bus errors."""


class BusUnavailable(BusError, Unavailable):
    """The backend cannot be reached, or the bus is not open.

    Also a `domain.errors.Unavailable`: when it ends a GraphQL subscription, the client is
    told `UNAVAILABLE` (retry later) rather than a masked internal error. The message never
    names the bus URL, credentials or server address; the underlying error, if any, is
    chained as `__cause__` for the logs.
    """


class BusGap(BusUnavailable):
    """A subscription ended because the backend connection dropped: messages published
    from then until the bus reconnects are lost (docs/decisions/0007)."""

    code = "BUS_GAP"


class InvalidMessage(BusError, TypeError):
    """A published message is not a dict that JSON can carry."""
