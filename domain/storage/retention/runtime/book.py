"""The policies in force, cached per project for ingest, which checks every batch's points
against its project's raw retention (the metrics feature's RawRetention port).

A policy changed on this instance applies here at once; one changed on another instance
applies here within `refresh_us` (the cache's age), which is also how long a point
refused by the new policy may still be accepted here (the next run deletes it).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.ports import Clock
from domain.storage.retention.model import RetentionDefaults, RetentionPolicy
from domain.storage.retention.ports import RetentionPolicyStore
from domain.storage.tiers import RAW

__all__ = ["PolicyBook"]


class PolicyBook:
    def __init__(
        self,
        store: RetentionPolicyStore,
        defaults: RetentionDefaults,
        clock: Clock,
        *,
        refresh_us: int = 10_000_000,
    ) -> None:
        self.store = store
        self.defaults = defaults
        self._clock = clock
        self._refresh_us = refresh_us
        # project -> (when read, the policy as enforced: raw capped by the ceiling)
        self._cached: dict[str, tuple[int, RetentionPolicy]] = {}

    async def stored(self, project: str) -> RetentionPolicy:
        """The project's policy as stored (the defaults if it has none), read now."""
        found = await self.store.get_retention_policy(project)
        policy = found if found is not None else self.defaults.policy(project)
        self.changed(policy)
        return policy

    async def in_force(self, project: str) -> RetentionPolicy:
        """The policy as enforced (raw capped by the ceiling), at most `refresh_us` old."""
        cached = self._cached.get(project)
        if cached is None or self._clock.now_us() - cached[0] >= self._refresh_us:
            await self.stored(project)
            cached = self._cached[project]
        return cached[1]

    def changed(self, policy: RetentionPolicy) -> None:
        capped = policy.capped(self.defaults.raw_ceiling_us)
        self._cached[policy.project] = (self._clock.now_us(), capped)

    # -- the metrics feature's RawRetention port ------------------------------------------

    async def longest_raw_us(self, project: str) -> int:
        """The longest raw retention of any of the project's metrics."""
        return (await self.in_force(project)).longest_raw_us()

    async def raw_us(self, project: str, names: Sequence[str]) -> list[int]:
        """The raw retention of each metric name."""
        policy = await self.in_force(project)
        if not policy.overrides:
            return [policy.keep(RAW)] * len(names)
        return [policy.keep(RAW, name) for name in names]
