"""Which alerts this process evaluates, when several processes share a store.

Alerts are spread over a fixed number of shards by a hash of their id, and each shard is a
lease in the store (`LeaseStore.acquire_lease`): the process holding it evaluates every
alert of the shard, and no other does. Every process also holds a membership lease, so
each can count the live processes and keep about its fair share of the shards: a process
that joins gets shards released by the others, and the shards of a process that dies are
taken over once its leases expire.

A round runs every third of the lease period: one write renews everything held
(`renew_leases`), one read lists the live leases, and free shards are taken one by one
only when the share grows. If rounds fail (the store is unreachable)
until the leases may have expired, the process gives up all its shards, so two processes
never evaluate one alert past a lease period (the process clocks must agree to within a
small part of it: NTP does that).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from domain.ports import LeaseStore

__all__ = ["SHARDS", "Changes", "ShardLeases", "shard_of"]

SHARDS = 64
_PREFIX = "alerting/"
_SHARD = _PREFIX + "shard/"
_MEMBER = _PREFIX + "member/"


def shard_of(alert_id: str) -> int:
    """The shard of an alert: stable across processes and versions."""
    return zlib.crc32(alert_id.encode()) % SHARDS


@dataclass(frozen=True, slots=True)
class Changes:
    """What a round changed: shards gained, shards given up (released), shards lost (taken by
    another owner, or expired before they could be renewed)."""

    gained: frozenset[int] = frozenset()
    released: frozenset[int] = frozenset()
    lost: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.gained or self.released or self.lost)


class ShardLeases:
    """The shards held by `owner`; call `round` every `interval_us`."""

    def __init__(self, store: LeaseStore, owner: str, *, ttl_us: int) -> None:
        self.owner = owner
        self.ttl_us = ttl_us
        self._store = store
        self._held: set[int] = set()
        self._valid_until_us = 0  # when the oldest renewal of the held shards runs out

    @property
    def interval_us(self) -> int:
        return self.ttl_us // 3

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def owns(self, alert_id: str) -> bool:
        return shard_of(alert_id) in self._held

    async def round(self, now_us: int) -> Changes:
        """Renew what is held, then take or give shards towards a fair share.

        A store error propagates; call `expire` after one to drop leases that may have run
        out meanwhile."""
        store, owner, ttl = self._store, self.owner, self.ttl_us
        member = _MEMBER + owner
        names = [member, *(_SHARD + str(shard) for shard in sorted(self._held))]
        kept = await store.renew_leases(names, owner, now_us=now_us, ttl_us=ttl)
        if member not in kept:  # the first round, or after the membership expired
            await store.acquire_lease(member, owner, now_us=now_us, ttl_us=ttl)
        lost = {shard for shard in self._held if _SHARD + str(shard) not in kept}
        self._held -= lost
        self._valid_until_us = now_us + ttl

        leases = await store.lease_holders(_PREFIX, now_us=now_us)
        members = [name for name in leases if name.startswith(_MEMBER)]
        holders = [name for name in leases if name.startswith(_SHARD)]
        share = math.ceil(SHARDS / max(1, len(members)))
        released: set[int] = set()
        while len(self._held) > share:
            shard = max(self._held)
            self._held.discard(shard)
            released.add(shard)
        gained: set[int] = set()
        taken = {int(name.removeprefix(_SHARD)) for name in holders}
        for shard in range(SHARDS):
            if len(self._held) >= share:
                break
            if shard in taken or shard in released:
                continue
            if await store.acquire_lease(_SHARD + str(shard), owner, now_us=now_us, ttl_us=ttl):
                self._held.add(shard)
                gained.add(shard)
        return Changes(frozenset(gained), frozenset(released), frozenset(lost))

    async def release(self, shards: frozenset[int]) -> None:
        """Give the shards back (after their states are written), for the others to take."""
        for shard in sorted(shards):
            await self._store.release_lease(_SHARD + str(shard), self.owner)

    async def leave(self) -> None:
        """Release every shard and the membership: a clean shutdown hands over at once."""
        held, self._held = frozenset(self._held), set()
        await self.release(held)
        await self._store.release_lease(_MEMBER + self.owner, self.owner)

    def expire(self, now_us: int) -> frozenset[int]:
        """After failed rounds: drop everything if the leases may have run out by now."""
        if now_us < self._valid_until_us - self.interval_us:
            return frozenset()
        lost, self._held = frozenset(self._held), set()
        return lost
