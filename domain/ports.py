"""Kernel ports: the clock, the event bus and leases, which every feature may use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from domain.events import Event

__all__ = ["Clock", "EventPublisher", "EventSubscriber", "LeaseStore"]


class EventPublisher(Protocol):
    async def publish(self, event: Event) -> None:
        """Put the event on its channel (`event.channel()`) for every process's subscribers."""
        ...


class EventSubscriber(Protocol):
    def subscribe(self, channel: str) -> AsyncIterator[Event]:
        """The events of one channel, typed, until the caller stops iterating."""
        ...


class Clock(Protocol):
    def now_us(self) -> int: ...


class LeaseStore(Protocol):
    """Named leases with an owner and an expiry, shared by every process on the store: how
    several instances split work (alert shards) so each piece runs in exactly one place."""

    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        """Take or renew the named lease for `owner` until `now_us + ttl_us`. True if the
        owner holds it now: it was free, expired, or already its own. Atomic across
        processes sharing the store."""
        ...

    async def renew_leases(
        self, names: Collection[str], owner: str, *, now_us: int, ttl_us: int
    ) -> set[str]:
        """Extend to `now_us + ttl_us` every lease of `names` that `owner` still holds (no
        other owner took it since), in one write; the names it holds now."""
        ...

    async def release_lease(self, name: str, owner: str) -> None: ...

    async def lease_holders(self, prefix: str, *, now_us: int) -> dict[str, str]:
        """The unexpired leases whose name starts with `prefix`: name -> owner."""
        ...
