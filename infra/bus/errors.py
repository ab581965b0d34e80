"""Errors raised by the event bus adapter."""

from __future__ import annotations

__all__ = ["BusError", "BusUnavailable", "InvalidMessage"]


class BusError(Exception):
    """Base class of the event bus errors."""


class BusUnavailable(BusError):
    """The backend cannot be reached, or the bus is not open.

    The message never names the bus URL, credentials or server address; the underlying
    error, if any, is chained as `__cause__` for the logs.
    """


class InvalidMessage(BusError, TypeError):
    """A published message is not a dict that JSON can carry."""
