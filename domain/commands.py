"""The base of every command: a write, imperative and frozen, handled by exactly one handler."""

from __future__ import annotations

__all__ = ["Command"]


class Command:
    """Marker base of every command."""
