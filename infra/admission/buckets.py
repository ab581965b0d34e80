"""Token buckets per caller (a token's subject) and per project, for operations and points.

A refusal names the limit and when to retry. It also marks the caller (and the project)
refused until then, so the HTTP edge turns away their next requests before reading a
byte of the body: a client that floods costs the server almost nothing while refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from domain.errors import RateLimited

__all__ = ["BucketRate", "RateLimits", "TokenBucket"]

MAX_KEYS: Final = 100_000  # buckets (and known tokens) kept; full ones are dropped first
# After a refusal, for this long, a caller (or project) gets one request at a time past the
# edge: the others its connections send meanwhile are refused unread, instead of all being
# read and parsed when its bucket refills only to be refused but one.
PROBATION_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class BucketRate:
    """`per_second` tokens flow in, up to `burst`; 0 per second turns the bucket off."""

    per_second: float
    burst: float

    @property
    def enabled(self) -> bool:
        return self.per_second > 0


class TokenBucket:
    __slots__ = ("_rate", "_stamp", "_tokens")

    def __init__(self, rate: BucketRate, now: float) -> None:
        self._rate = rate
        self._tokens = rate.burst
        self._stamp = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` tokens are there (0: now). More than the burst is asked
        as the burst, so a batch larger than the burst passes on a full bucket."""
        self._refill(now)
        missing = min(amount, self._rate.burst) - self._tokens
        return 0.0 if missing <= 0 else missing / self._rate.per_second

    def take(self, amount: float) -> None:
        self._tokens -= min(amount, self._rate.burst)

    def full(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self._rate.burst

    def _refill(self, now: float) -> None:
        self._tokens = min(
            self._rate.burst, self._tokens + (now - self._stamp) * self._rate.per_second
        )
        self._stamp = now


class _Buckets:
    """One bucket per key, created full on first use."""

    def __init__(self, rate: BucketRate) -> None:
        self.rate = rate
        self._buckets: dict[str, TokenBucket] = {}

    def get(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full(now)}
            bucket = self._buckets[key] = TokenBucket(self.rate, now)
        return bucket


@dataclass(frozen=True, slots=True)
class _Charge:
    buckets: _Buckets
    key: str
    amount: float
    what: str  # for the message: "operations of caller 'ci'"
    unit: str


class RateLimits:
    """The four kinds of bucket and who is refused until when."""

    def __init__(
        self,
        *,
        caller_operations: BucketRate,
        caller_points: BucketRate,
        project_operations: BucketRate,
        project_points: BucketRate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._caller_ops = _Buckets(caller_operations)
        self._caller_points = _Buckets(caller_points)
        self._project_ops = _Buckets(project_operations)
        self._project_points = _Buckets(project_points)
        self._clock = clock
        self._subjects: dict[str, str] = {}  # token -> subject, for the edge
        self._refused_until: dict[str, float] = {}  # "caller:<s>" / "project:<p>" -> when

    def operation(self, subject: str) -> None:
        """One operation (a GraphQL request, a collector request) of `subject`."""
        self._charge([_Charge(self._caller_ops, subject, 1, f"caller {subject!r}", "operations")])

    def ingest(self, subject: str, project: str, points: int) -> None:
        """A command in `project`; `points` of them if it stores points. All or nothing:
        a refusal takes nothing from any bucket."""
        charges = [_Charge(self._project_ops, project, 1, f"project {project!r}", "operations")]
        if points:
            charges += [
                _Charge(self._caller_points, subject, points, f"caller {subject!r}", "points"),
                _Charge(self._project_points, project, points, f"project {project!r}", "points"),
            ]
        self._charge(charges, subject=subject)

    def learn(self, token: str, subject: str) -> None:
        """Remember whose token this is, so the edge can refuse it before the body."""
        if token not in self._subjects:
            if len(self._subjects) >= MAX_KEYS:
                self._subjects.clear()
            self._subjects[token] = subject

    def keys_of(self, token: str | None, project: str | None = None) -> list[str]:
        """The edge's names for the caller of `token` and for `project`."""
        keys = []
        subject = self._subjects.get(token) if token else None
        if subject is not None:
            keys.append(f"caller:{subject}")
        if project:
            keys.append(f"project:{project}")
        return keys

    def refused_for(self, keys: list[str]) -> float:
        """Seconds the callers or projects of `keys` stay refused; 0 if none is."""
        now = self._clock()
        wait = max((self._refused_until.get(k, 0.0) - now for k in keys), default=0.0)
        return max(0.0, wait)

    def on_probation(self, keys: list[str]) -> bool:
        """Refused less than PROBATION_SECONDS ago: one request at a time past the edge."""
        horizon = self._clock() - PROBATION_SECONDS
        return any(self._refused_until.get(k, 0.0) > horizon for k in keys)

    def _charge(self, charges: list[_Charge], *, subject: str = "") -> None:
        """Take every charge, or none and raise RateLimited. A project's refusal marks the
        caller who met it too: at /graphql the edge knows the caller, not the project."""
        now = self._clock()
        active = [c for c in charges if c.buckets.rate.enabled]
        worst: tuple[float, _Charge] | None = None
        for charge in active:
            wait = charge.buckets.get(charge.key, now).wait_for(charge.amount, now)
            if wait > 0 and (worst is None or wait > worst[0]):
                worst = (wait, charge)
        if worst is None:
            for charge in active:
                charge.buckets.get(charge.key, now).take(charge.amount)
            return
        wait, charge = worst
        retry_after = max(1, math.ceil(wait))
        kind = "caller" if charge.buckets in (self._caller_ops, self._caller_points) else "project"
        self._mark(f"{kind}:{charge.key}", now + wait)
        if kind == "project" and subject:
            self._mark(f"caller:{subject}", now + wait)
        rate = charge.buckets.rate
        raise RateLimited(
            f"rate limit: {charge.what} may send {rate.per_second:g} {charge.unit} a second"
            f" (bursts of {rate.burst:g}); retry in {retry_after} s",
            retryAfter=retry_after,
        )

    def _mark(self, key: str, until: float) -> None:
        if len(self._refused_until) >= MAX_KEYS:
            now = self._clock()
            self._refused_until = {k: t for k, t in self._refused_until.items() if t > now}
        self._refused_until[key] = max(until, self._refused_until.get(key, 0.0))
