"""Token buckets (infra/admission/buckets.py) on a clock the test moves: all-or-nothing
charges, the retry time, and what the edge is told about a refused caller."""

from __future__ import annotations

import pytest

from domain.errors import RateLimited
from infra.admission.buckets import PROBATION_SECONDS, BucketRate, RateLimits

OFF = BucketRate(0, 0)


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock) -> RateLimits:
    return RateLimits(
        caller_operations=OFF,
        caller_points=BucketRate(1_000, 5_000),
        project_operations=OFF,
        project_points=BucketRate(100, 1_000),
        clock=clock,
    )


def test_a_project_refusal_takes_nothing_and_marks_the_caller_for_the_edge() -> None:
    clock = Clock()
    rates = limits(clock)
    rates.learn("token-a", "alice")
    rates.ingest("alice", "noisy", 1_000)  # the project's burst
    with pytest.raises(RateLimited) as refused:
        rates.ingest("alice", "noisy", 500)
    assert refused.value.details["retryAfter"] == 5  # 500 points at 100 a second
    keys = rates.keys_of("token-a")
    assert rates.refused_for(keys) == pytest.approx(5.0)
    rates.ingest("alice", "calm", 4_000)  # the refusal took none of the caller's 4,000 left

    clock.now += 5.0
    assert rates.refused_for(keys) == 0
    assert rates.on_probation(keys)  # one request at a time past the edge for a while
    rates.ingest("alice", "noisy", 500)
    clock.now += PROBATION_SECONDS + 0.1
    assert not rates.on_probation(keys)


def test_a_batch_larger_than_the_burst_passes_on_a_full_bucket_only() -> None:
    clock = Clock()
    rates = limits(clock)
    rates.ingest("bob", "big", 50_000)
    with pytest.raises(RateLimited):
        rates.ingest("bob", "big", 1)
    assert rates.refused_for(rates.keys_of(None, "big")) > 0
