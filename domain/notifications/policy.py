"""The notification policy of a project: a routing tree, inhibition rules and mute timings,
with Alertmanager's semantics and defaults."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.durations import parse_duration
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from domain.notifications.timing import MuteTiming

__all__ = [
    "DEFAULT_GROUP_INTERVAL_US",
    "DEFAULT_GROUP_WAIT_US",
    "DEFAULT_REPEAT_INTERVAL_US",
    "InhibitRule",
    "Policy",
    "Route",
    "RouteLeaf",
    "matcher_text",
    "parse_matcher",
]

DEFAULT_GROUP_WAIT_US = 30_000_000  # Alertmanager's defaults
DEFAULT_GROUP_INTERVAL_US = 300_000_000
DEFAULT_REPEAT_INTERVAL_US = 4 * 3_600_000_000
MAX_ROUTES = 200
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*')
_ROUTE_FIELDS = frozenset(
    {
        "matchers",
        "channels",
        "continue",
        "group_by",
        "group_wait",
        "group_interval",
        "repeat_interval",
        "mute_time_intervals",
        "escalate",
        "routes",
    }
)


def parse_matcher(text: object) -> TagMatcher:
    """Alertmanager's matcher text: `severity="critical"`, `team=~"db|web"`, `env!=dev`."""
    found = _MATCHER.fullmatch(str(text))
    if found is None:
        raise BadUserInput(f'{text!r} is not a matcher such as severity="critical"')
    return TagMatcher(found[1], MatchOp(found[2]), found[3])


def matcher_text(matcher: TagMatcher) -> str:
    return f'{matcher.key}{matcher.op.value}"{matcher.value}"'


@dataclass(frozen=True, slots=True)
class RouteLeaf:
    """A matching route with the settings it inherited resolved: where a group lives."""

    path: str  # "0.2.1": the route's position in the tree, part of every group key
    channels: tuple[str, ...]
    group_by: tuple[str, ...] | None  # None: group by every label ("...")
    group_wait_us: int
    group_interval_us: int
    repeat_interval_us: int
    mute_timings: tuple[str, ...]
    escalate_after_us: int | None
    escalate_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """A node of the tree. Unset settings (None) inherit from the parent."""

    matchers: tuple[TagMatcher, ...] = ()
    channels: tuple[str, ...] = ()
    continue_: bool = False
    group_by: tuple[str, ...] | None = None
    group_wait_us: int | None = None
    group_interval_us: int | None = None
    repeat_interval_us: int | None = None
    mute_time_intervals: tuple[str, ...] = ()
    escalate_after_us: int | None = None
    escalate_to: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()

    def match(self, labels: Mapping[str, str]) -> list[RouteLeaf]:
        """The routes an alert goes to: depth first, the first matching child unless it
        says `continue`; a node none of whose children match is itself the match."""
        root = RouteLeaf(
            "0",
            (),
            ("alertname",),
            DEFAULT_GROUP_WAIT_US,
            DEFAULT_GROUP_INTERVAL_US,
            DEFAULT_REPEAT_INTERVAL_US,
            (),
            None,
            (),
        )
        return self._match(labels, self._resolve(root, "0"))

    def _resolve(self, parent: RouteLeaf, path: str) -> RouteLeaf:
        def pick(mine: Any, inherited: Any) -> Any:
            return inherited if mine is None else mine

        return RouteLeaf(
            path=path,
            channels=self.channels or parent.channels,
            group_by=parent.group_by if self.group_by is None else _group_by(self.group_by),
            group_wait_us=pick(self.group_wait_us, parent.group_wait_us),
            group_interval_us=pick(self.group_interval_us, parent.group_interval_us),
            repeat_interval_us=pick(self.repeat_interval_us, parent.repeat_interval_us),
            mute_timings=self.mute_time_intervals or parent.mute_timings,
            escalate_after_us=self.escalate_after_us,
            escalate_to=self.escalate_to,
        )

    def _match(self, labels: Mapping[str, str], me: RouteLeaf) -> list[RouteLeaf]:
        found: list[RouteLeaf] = []
        for n, child in enumerate(self.routes):
            if all(m.matches(labels) for m in child.matchers):
                found += child._match(labels, child._resolve(me, f"{me.path}.{n}"))
                if not child.continue_:
                    break
        return found or [me]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "matchers": [matcher_text(m) for m in self.matchers],
            "channels": list(self.channels),
            "continue": self.continue_,
            "mute_time_intervals": list(self.mute_time_intervals),
            "routes": [r.to_dict() for r in self.routes],
        }
        if self.group_by is not None:
            data["group_by"] = list(self.group_by)
        for name in ("group_wait", "group_interval", "repeat_interval"):
            value = getattr(self, f"{name}_us")
            if value is not None:
                data[name] = value / 1e6
        if self.escalate_after_us is not None:
            data["escalate"] = {
                "after": self.escalate_after_us / 1e6,
                "channels": list(self.escalate_to),
            }
        return data

    @classmethod
    def parse(cls, data: object, *, depth: int = 0, count: list[int] | None = None) -> Route:
        count = count if count is not None else [0]
        count[0] += 1
        if count[0] > MAX_ROUTES or depth > 10:
            raise BadUserInput(f"a policy holds at most {MAX_ROUTES} routes, 10 levels deep")
        if not isinstance(data, Mapping):
            raise BadUserInput("a route is an object")
        unknown = sorted(set(data) - _ROUTE_FIELDS)
        if unknown:
            raise BadUserInput(f"unknown route fields {unknown}")
        durations = {
            f"{name}_us": parse_duration(data[name], name)
            for name in ("group_wait", "group_interval", "repeat_interval")
            if data.get(name) is not None
        }
        for name in ("group_interval_us", "repeat_interval_us"):
            if durations.get(name) == 0:
                raise BadUserInput(f"{name.removesuffix('_us')} must be positive")
        escalate = data.get("escalate")
        after: int | None = None
        to: tuple[str, ...] = ()
        if escalate is not None:
            if not isinstance(escalate, Mapping) or not escalate.get("channels"):
                raise BadUserInput("escalate is {after: 15m, channels: [channel ids]}")
            after = parse_duration(escalate.get("after", 0), "escalate.after")
            to = _texts(escalate["channels"], "escalate.channels")
        group_by = data.get("group_by")
        return cls(
            matchers=tuple(parse_matcher(m) for m in _seq(data.get("matchers"), "matchers")),
            channels=_texts(data.get("channels"), "channels"),
            continue_=bool(data.get("continue", False)),
            group_by=None if group_by is None else _texts(group_by, "group_by"),
            mute_time_intervals=_texts(data.get("mute_time_intervals"), "mute_time_intervals"),
            escalate_after_us=after,
            escalate_to=to,
            routes=tuple(
                cls.parse(r, depth=depth + 1, count=count)
                for r in _seq(data.get("routes"), "routes")
            ),
            **durations,
        )

    def walk(self) -> list[Route]:
        return [self, *(r for child in self.routes for r in child.walk())]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """A firing alert matching `source` mutes the alerts matching `target` that carry the
    same values of the `equal` labels (Alertmanager's inhibit_rules)."""

    source: tuple[TagMatcher, ...]
    target: tuple[TagMatcher, ...]
    equal: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_matchers": [matcher_text(m) for m in self.source],
            "target_matchers": [matcher_text(m) for m in self.target],
            "equal": list(self.equal),
        }

    @classmethod
    def parse(cls, data: object) -> InhibitRule:
        if not isinstance(data, Mapping):
            raise BadUserInput("an inhibit rule is an object")
        source = tuple(parse_matcher(m) for m in _seq(data.get("source_matchers"), "source"))
        target = tuple(parse_matcher(m) for m in _seq(data.get("target_matchers"), "target"))
        if not source or not target:
            raise BadUserInput("an inhibit rule needs source_matchers and target_matchers")
        return cls(source, target, _texts(data.get("equal"), "equal"))


@dataclass(frozen=True, slots=True)
class Policy:
    route: Route = field(default_factory=Route)
    inhibit_rules: tuple[InhibitRule, ...] = ()
    mute_timings: tuple[MuteTiming, ...] = ()
    version: int = 0

    def channel_ids(self) -> set[str]:
        return {c for r in self.route.walk() for c in (*r.channels, *r.escalate_to)}

    def timing(self, name: str) -> MuteTiming | None:
        return next((t for t in self.mute_timings if t.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route.to_dict(),
            "inhibit_rules": [r.to_dict() for r in self.inhibit_rules],
            "mute_timings": [t.to_dict() for t in self.mute_timings],
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, version: int = 0) -> Policy:
        unknown = sorted(set(data) - {"route", "inhibit_rules", "mute_timings"})
        if unknown:
            raise BadUserInput(f"unknown policy fields {unknown}")
        route = Route.parse(data.get("route") or {})
        if route.matchers:
            raise BadUserInput("the root route matches every alert: it takes no matchers")
        timings = tuple(MuteTiming.parse(t) for t in _seq(data.get("mute_timings"), "timings"))
        names = [t.name for t in timings]
        if len(set(names)) != len(names):
            raise BadUserInput("mute timing names must be unique")
        missing = sorted({n for r in route.walk() for n in r.mute_time_intervals} - set(names))
        if missing:
            raise BadUserInput(f"routes name unknown mute timings {missing}")
        inhibit = tuple(InhibitRule.parse(r) for r in _seq(data.get("inhibit_rules"), "rules"))
        return cls(route, inhibit, timings, version)


def _group_by(labels: tuple[str, ...]) -> tuple[str, ...] | None:
    return None if "..." in labels else labels


def _seq(value: object, name: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise BadUserInput(f"{name} must be a list")
    return value


def _texts(value: object, name: str) -> tuple[str, ...]:
    items = _seq(value, name)
    if not all(isinstance(v, str) and v for v in items):
        raise BadUserInput(f"{name} must be a list of non-empty text")
    return tuple(items)
