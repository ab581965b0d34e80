"""Tier choice: the coarsest tier allowed by the step, stitched with finer tiers at the edges."""

from __future__ import annotations

import pytest

from domain.storage.tier_choice import Segment, choose_tier, plan
from domain.storage.tiers import HOUR, MINUTE, RAW

M = 60_000_000
H = 60 * M


@pytest.mark.parametrize(
    ("step", "tier"),
    [
        (M, RAW),  # a 1-minute bucket would merge one 1m bucket: raw is as cheap
        (2 * M, MINUTE),
        (90 * M, MINUTE),  # 1h does not divide 90 min
        (2 * H, HOUR),
        (24 * H, HOUR),
        (15_000_000, RAW),
        (None, HOUR),
    ],
)
def test_the_coarsest_tier_dividing_the_step_and_at_most_half_of_it(
    step: int | None, tier: object
) -> None:
    assert choose_tier(0, 10 * H, step) == tier


def test_a_percentile_reads_raw_points() -> None:
    assert choose_tier(0, 10 * H, 2 * H, percentile=True) == RAW


def test_a_short_range_without_step_reads_raw_or_minutes() -> None:
    assert choose_tier(0, M, None) == RAW
    assert choose_tier(0, 2 * M, None) == MINUTE


def test_edges_and_the_part_after_each_watermark_come_from_finer_tiers() -> None:
    segments = plan(5, 5 * H + 7, HOUR, {"1m": 4 * H + 3 * M, "1h": 3 * H})
    assert segments == [
        Segment(RAW, 5, M),
        Segment(MINUTE, M, H),
        Segment(HOUR, H, 3 * H),
        Segment(MINUTE, 3 * H, 4 * H + 3 * M),
        Segment(RAW, 4 * H + 3 * M, 5 * H + 7),
    ]


def test_without_rollups_everything_is_raw() -> None:
    assert plan(0, 10 * H, HOUR, {}) == [Segment(RAW, 0, 10 * H)]
    assert plan(3, 3, HOUR, {"1h": H}) == []
