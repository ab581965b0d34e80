"""The base of every query: a read, a small frozen value handed to the message bus."""

from __future__ import annotations

__all__ = ["Query"]


class Query:
    """Marker base of every query."""
