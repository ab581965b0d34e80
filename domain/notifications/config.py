"""A project's notification configuration as the router reads it: policy, channels and
silences, cached for a few seconds (changes through this process apply at once; through
another process, within the cache's lifetime)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.notifications.alerts import AlertRecord
from domain.notifications.model import Channel
from domain.notifications.policy import Policy, Route, RouteLeaf
from domain.notifications.ports import NotificationStore
from domain.notifications.silences import Silence

__all__ = ["CACHE_US", "ConfigCache", "ProjectConfig", "effective_policy"]

CACHE_US = 5_000_000


def effective_policy(stored: Policy | None, channels: Iterable[Channel]) -> Policy:
    """The stored policy; without one, every enabled channel hears every alert."""
    if stored is not None:
        return stored
    return Policy(route=Route(channels=tuple(c.id for c in channels if c.enabled)))


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    policy: Policy
    channels: dict[str, Channel]
    silences: tuple[Silence, ...]
    loaded_us: int

    def muted(self, leaf: RouteLeaf, now_us: int) -> bool:
        """A mute timing of the route is active now."""
        timings = (self.policy.timing(name) for name in leaf.mute_timings)
        return any(t is not None and t.active(now_us) for t in timings)

    def silenced(self, alert: AlertRecord, now_us: int) -> bool:
        labels = alert.labels
        return any(s.mutes(labels, now_us) for s in self.silences)

    def inhibited(self, alert: AlertRecord, firing: Iterable[AlertRecord]) -> bool:
        labels = alert.labels
        for rule in self.policy.inhibit_rules:
            if not all(m.matches(labels) for m in rule.target):
                continue
            for source in firing:
                if source.instance_id == alert.instance_id:
                    continue
                theirs = source.labels
                if all(m.matches(theirs) for m in rule.source) and all(
                    theirs.get(k, "") == labels.get(k, "") for k in rule.equal
                ):
                    return True
        return False

    def mutes(self, alert: AlertRecord, firing: Iterable[AlertRecord], now_us: int) -> bool:
        return self.silenced(alert, now_us) or self.inhibited(alert, firing)

    def channels_of(self, ids: Iterable[str]) -> list[Channel]:
        found = (self.channels.get(i) for i in dict.fromkeys(ids))
        return [c for c in found if c is not None and c.enabled]


class ConfigCache:
    def __init__(self, store: NotificationStore, *, lifetime_us: int = CACHE_US) -> None:
        self._store = store
        self._lifetime_us = lifetime_us
        self._configs: dict[str, ProjectConfig] = {}

    async def get(self, project: str, now_us: int) -> ProjectConfig:
        config = self._configs.get(project)
        if config is None or not 0 <= now_us - config.loaded_us < self._lifetime_us:
            channels = await self._store.list_channels(project)
            policy = effective_policy(await self._store.get_policy(project), channels)
            silences = tuple(
                s for s in await self._store.list_silences(project) if s.ends_us > now_us
            )
            config = ProjectConfig(policy, {c.id: c for c in channels}, silences, now_us)
            self._configs[project] = config
        return config

    def cached(self, project: str) -> ProjectConfig | None:
        return self._configs.get(project)

    def invalidate(self, project: str) -> None:
        self._configs.pop(project, None)
