"""Retention policies: per project, how long each tier is kept, overrides by metric name
pattern, and a legal hold that suspends every deletion.

Overrides match metric names with shell-style globs (`fnmatch.fnmatchcase`: `*`, `?`,
`[abc]`, case-sensitive) and the FIRST override in the list whose pattern matches a name
applies to it, as routes do: the order is the user's, and nothing has to decide which of
two globs is "more specific". An override sets only the tiers it names; the others come
from the project's own durations.

A policy is valid when every duration is at least an hour and at most the bound (10,000
days), raw points are kept no longer than the instance-wide ceiling (VIGIL_RETENTION_DAYS),
and a coarser tier is kept at least as long as a finer one (raw <= 1m <= 1h), for the
project and for every override once its inherited tiers are filled in: a rollup that
expires before the points it summarizes would leave a range answered by nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from itertools import pairwise
from typing import Any

from domain.errors import BadUserInput
from domain.storage.tiers import HOUR, MINUTE, RAW, TIERS, Tier

__all__ = [
    "DAY_US",
    "DEFAULT_KEEP_US",
    "MAX_KEEP_US",
    "MAX_OVERRIDES",
    "MIN_KEEP_US",
    "LegalHold",
    "MetricOverride",
    "RetentionDefaults",
    "RetentionPolicy",
    "parse_keep",
]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MIN_KEEP_US = HOUR_US
MAX_KEEP_US = 10_000 * DAY_US  # the bound of VIGIL_RETENTION_DAYS
MAX_OVERRIDES = 100
MAX_PATTERN = 200
MAX_REASON = 500
DEFAULT_KEEP_US: Mapping[str, int] = {
    RAW.name: 15 * DAY_US,
    MINUTE.name: 90 * DAY_US,
    HOUR.name: 730 * DAY_US,  # two years
}
_TEXT = re.compile(r"(\d+)(s|m|h|d|w|y)")
_UNIT_US = {
    "s": 1_000_000,
    "m": 60_000_000,
    "h": HOUR_US,
    "d": DAY_US,
    "w": 7 * DAY_US,
    "y": 365 * DAY_US,
}


def parse_keep(value: object, name: str) -> int:
    """A retention given as seconds (a number) or text such as "36h", "15d", "2y", in
    microseconds, between an hour and 10,000 days."""
    if isinstance(value, str):
        found = _TEXT.fullmatch(value.strip())
        if found is None:
            raise BadUserInput(f"{name} {value!r} is not a duration such as 36h, 15d, 4w or 2y")
        micros = int(found[1]) * _UNIT_US[found[2]]
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        micros = round(min(abs(value), 1e15) * 1_000_000) * (1 if value >= 0 else -1)
    else:
        raise BadUserInput(f"{name} must be a number of seconds or text such as 15d")
    if not MIN_KEEP_US <= micros <= MAX_KEEP_US:
        raise BadUserInput(f"{name} must be between 1 hour and 10000 days")
    return micros


@dataclass(frozen=True, slots=True)
class RetentionDefaults:
    """What a project without a policy of its own keeps, and the instance's raw ceiling."""

    keep_us: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_KEEP_US))
    raw_ceiling_us: int = 30 * DAY_US  # VIGIL_RETENTION_DAYS

    def __post_init__(self) -> None:
        keep = {**DEFAULT_KEEP_US, **self.keep_us}
        keep[RAW.name] = min(keep[RAW.name], self.raw_ceiling_us)
        object.__setattr__(self, "keep_us", keep)

    def policy(self, project: str) -> RetentionPolicy:
        return RetentionPolicy(project, dict(self.keep_us))


@dataclass(frozen=True, slots=True)
class MetricOverride:
    """The tiers `pattern` (a glob on metric names) keeps differently from its project."""

    pattern: str
    keep_us: Mapping[str, int]  # only the tiers it changes

    def matches(self, name: str) -> bool:
        return fnmatchcase(name, self.pattern)

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "keep_us": dict(self.keep_us)}


@dataclass(frozen=True, slots=True)
class LegalHold:
    """Deletion suspended for the project until released: why, by whom, since when."""

    reason: str
    by: str
    at_us: int

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "by": self.by, "at_us": self.at_us}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    project: str
    keep_us: Mapping[str, int]  # tier name -> how long it is kept
    overrides: tuple[MetricOverride, ...] = ()
    hold: LegalHold | None = None
    version: int = 0  # 0: never stored (the defaults)
    updated_by: str = ""
    updated_us: int = 0

    def keep(self, tier: Tier, name: str | None = None) -> int:
        """How long `tier` of metric `name` is kept (None: the project's own)."""
        if name is not None:
            for override in self.overrides:
                if override.matches(name):
                    return int(override.keep_us.get(tier.name, self.keep_us[tier.name]))
        return int(self.keep_us[tier.name])

    def override_of(self, name: str) -> int | None:
        """The index of the override that applies to `name` (the first match), or None."""
        return next((i for i, o in enumerate(self.overrides) if o.matches(name)), None)

    def longest_raw_us(self) -> int:
        own = self.keep(RAW)
        return max([own] + [int(o.keep_us.get(RAW.name, own)) for o in self.overrides])

    def effective(self, override: MetricOverride) -> dict[str, int]:
        return {t.name: int(override.keep_us.get(t.name, self.keep_us[t.name])) for t in TIERS}

    def validate(self, *, raw_ceiling_us: int) -> None:
        """BadUserInput naming the first problem; see the module's docstring."""
        _check_tiers(dict(self.keep_us), "the project", raw_ceiling_us, complete=True)
        if len(self.overrides) > MAX_OVERRIDES:
            raise BadUserInput(f"at most {MAX_OVERRIDES} overrides")
        seen: set[str] = set()
        for override in self.overrides:
            pattern = override.pattern
            if not pattern.strip() or len(pattern) > MAX_PATTERN:
                raise BadUserInput(f"an override's pattern must be 1 to {MAX_PATTERN} characters")
            if pattern in seen:
                raise BadUserInput(f"the pattern {pattern!r} is given twice")
            seen.add(pattern)
            if not override.keep_us:
                raise BadUserInput(f"the override {pattern!r} changes no tier")
            _check_tiers(dict(override.keep_us), f"override {pattern!r}", raw_ceiling_us)
            effective = self.effective(override)
            _check_tiers(effective, f"override {pattern!r}", raw_ceiling_us, complete=True)
        if self.hold is not None and not 0 < len(self.hold.reason) <= MAX_REASON:
            raise BadUserInput(f"a legal hold needs a reason of 1 to {MAX_REASON} characters")

    def with_hold(self, hold: LegalHold | None) -> RetentionPolicy:
        return replace(self, hold=hold)

    def capped(self, raw_ceiling_us: int) -> RetentionPolicy:
        """The policy as enforced: raw points never kept past the instance's ceiling (a
        policy stored before VIGIL_RETENTION_DAYS was lowered keeps its text)."""

        def cap(keep: Mapping[str, int]) -> dict[str, int]:
            out = dict(keep)
            if RAW.name in out:
                out[RAW.name] = min(out[RAW.name], raw_ceiling_us)
            return out

        overrides = tuple(MetricOverride(o.pattern, cap(o.keep_us)) for o in self.overrides)
        return replace(self, keep_us=cap(self.keep_us), overrides=overrides)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "keep_us": dict(self.keep_us),
            "overrides": [o.to_dict() for o in self.overrides],
            "hold": None if self.hold is None else self.hold.to_dict(),
            "version": self.version,
            "updated_by": self.updated_by,
            "updated_us": self.updated_us,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RetentionPolicy:
        hold = d.get("hold")
        return cls(
            project=str(d["project"]),
            keep_us={str(k): int(v) for k, v in d["keep_us"].items()},
            overrides=tuple(
                MetricOverride(str(o["pattern"]), {str(k): int(v) for k, v in o["keep_us"].items()})
                for o in d.get("overrides", ())
            ),
            hold=None
            if not hold
            else LegalHold(str(hold["reason"]), str(hold["by"]), int(hold["at_us"])),
            version=int(d.get("version", 0)),
            updated_by=str(d.get("updated_by", "")),
            updated_us=int(d.get("updated_us", 0)),
        )


def _check_tiers(
    keep: dict[str, int], where: str, raw_ceiling_us: int, *, complete: bool = False
) -> None:
    names = [t.name for t in TIERS]
    for name, micros in keep.items():
        if name not in names:
            raise BadUserInput(f"{where}: no tier {name!r} (tiers: {', '.join(names)})")
        if not MIN_KEEP_US <= micros <= MAX_KEEP_US:
            raise BadUserInput(f"{where}: tier {name} must be kept 1 hour to 10000 days")
    if complete and set(keep) != set(names):
        raise BadUserInput(f"{where}: every tier needs a duration")
    raw = keep.get(RAW.name)
    if raw is not None and raw > raw_ceiling_us:
        raise BadUserInput(
            f"{where}: raw points may be kept at most {raw_ceiling_us // DAY_US} days on this"
            " instance (VIGIL_RETENTION_DAYS)"
        )
    present = [keep[n] for n in names if n in keep]
    if complete and any(finer > coarser for finer, coarser in pairwise(present)):
        raise BadUserInput(f"{where}: a coarser tier must be kept at least as long as a finer one")
