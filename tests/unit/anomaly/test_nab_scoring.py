"""The NAB scorer (bench/nab/scoring.py) on hand-built files."""

from __future__ import annotations

import numpy as np
import pytest

from bench.nab.scoring import (
    PROFILES,
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    Profile,
    layout,
    normalized,
    probation_rows,
    scaled_sigmoid,
    score_file,
)

N = 1000  # probation: the first 150 rows
WINDOWS = ((300, 349), (700, 749))


def flags(*rows: int) -> np.ndarray:
    marks = np.zeros(N, dtype=bool)
    marks[list(rows)] = True
    return marks


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation_rows(1000) == 150
    assert probation_rows(4032) == 604
    assert probation_rows(15902) == 750


def test_the_scaled_sigmoid_rewards_early_and_punishes_far() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.9866, abs=1e-4)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(5.0) == -1.0


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_a_detector_that_never_fires_scores_0_and_a_perfect_one_100(profile: Profile) -> None:
    where = layout(N, WINDOWS)
    assert normalized([score_file(where, flags(), profile)]) == pytest.approx(0.0)
    perfect = score_file(where, flags(300, 700), profile)
    assert normalized([perfect]) == pytest.approx(100.0)
    assert (perfect.tp, perfect.fp, perfect.fn) == (2, 0, 0)


def test_an_early_detection_scores_more_than_a_late_one() -> None:
    where = layout(N, WINDOWS)
    early = score_file(where, flags(305, 700), STANDARD).raw
    late = score_file(where, flags(345, 700), STANDARD).raw
    assert early > late > score_file(where, flags(700), STANDARD).raw


def test_only_the_first_detection_in_a_window_counts() -> None:
    where = layout(N, WINDOWS)
    once = score_file(where, flags(310, 700), STANDARD)
    many = score_file(where, flags(310, 311, 320, 349, 700), STANDARD)
    assert many.raw == once.raw
    assert many.fp == 0


@pytest.mark.parametrize(
    ("profile", "cost"), [(STANDARD, 0.11), (REWARD_LOW_FP, 0.22), (REWARD_LOW_FN, 0.11)]
)
def test_a_false_positive_far_from_windows_costs_the_profile_weight(
    profile: Profile, cost: float
) -> None:
    where = layout(N, WINDOWS)
    clean = score_file(where, flags(300, 700), profile)
    with_fp = score_file(where, flags(200, 300, 700), profile)  # before any window
    assert clean.raw - with_fp.raw == pytest.approx(cost)
    assert with_fp.fp == 1


def test_a_false_positive_just_after_a_window_costs_less_than_one_far_after() -> None:
    where = layout(N, WINDOWS)
    near = score_file(where, flags(300, 352, 700), STANDARD).raw
    far = score_file(where, flags(300, 600, 700), STANDARD).raw
    assert near > far


@pytest.mark.parametrize(("profile", "cost"), [(STANDARD, 1.0), (REWARD_LOW_FN, 2.0)])
def test_a_missed_window_costs_the_profile_weight(profile: Profile, cost: float) -> None:
    where = layout(N, WINDOWS)
    both = score_file(where, flags(300, 700), profile)
    one = score_file(where, flags(300), profile)
    assert both.raw - one.raw == pytest.approx(cost + profile.tp * scaled_sigmoid(-1.0))


def test_detections_in_the_probationary_period_count_for_nothing() -> None:
    where = layout(N, WINDOWS)
    assert score_file(where, flags(10, 100, 149), STANDARD).raw == -2.0


def test_precision_recall_and_f1_count_windows() -> None:
    where = layout(N, WINDOWS)
    result = score_file(where, flags(200, 320, 330), STANDARD)
    assert (result.tp, result.fp, result.fn) == (1, 1, 1)
    assert result.precision == 0.5
    assert result.recall == 0.5
    assert result.f1 == 0.5


def test_a_file_without_windows_has_no_normalised_score_but_pays_for_false_positives() -> None:
    where = layout(N, ())
    result = score_file(where, flags(500), STANDARD)
    assert result.raw == pytest.approx(-0.11)
    assert result.normalized is None
    assert result.recall is None
