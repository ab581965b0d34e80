"""The percentile sketch against exact quantiles (numpy's, which DuckDB's quantile_cont
matches), its key formula, and merging."""

from __future__ import annotations

import math

import numpy as np
import pytest

from domain.storage import sketch

QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)


def datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261206)
    return {
        "lognormal latencies": rng.lognormal(3, 1.5, 50_000),
        "normal around 50": rng.normal(50, 10, 50_000),
        "negative temperatures": -rng.exponential(4, 20_000) - 0.1,
        "pareto tail": rng.pareto(1.5, 50_000) + 1,
        "tiny values": rng.uniform(1e-9, 1e-6, 10_000),
        "small counts": rng.integers(1, 1_000, 200).astype(float),
    }


@pytest.mark.parametrize("name", list(datasets()))
def test_quantiles_are_within_one_percent_of_exact(name: str) -> None:
    values = datasets()[name]
    keys, counts = sketch.bins_of(values)
    worst = 0.0
    for q in QUANTILES:
        exact = float(np.quantile(values, q))
        estimate = sketch.quantile(keys, counts, q, minimum=values.min(), maximum=values.max())
        assert estimate is not None
        worst = max(worst, abs(estimate - exact) / abs(exact))
    print(f"{name}: max relative error {worst:.4%}")
    assert worst <= sketch.ALPHA + 1e-12  # documented bound 0.5%; the issue asks <= 1%


def test_the_key_formula_uses_the_published_constants() -> None:
    assert math.log(sketch.GAMMA) == sketch.LN_GAMMA
    values = [5e-324, 1e-300, 0.5, 1.0, 1.0000001, 3.0, 1e300, 1.7e308]
    expected = [sketch.OFFSET + math.ceil(math.log(v) / sketch.LN_GAMMA) for v in values]
    assert sketch.keys_of(values).tolist() == expected
    assert sketch.keys_of([-v for v in values]).tolist() == [-k for k in expected]
    assert sketch.keys_of([0.0, -0.0]).tolist() == [0, 0]


def test_keys_grow_with_values_and_stand_for_them_within_alpha() -> None:
    rng = np.random.default_rng(7)
    values = np.sort(
        np.concatenate([rng.normal(0, 100, 5_000), [0.0], -np.logspace(-300, 300, 50)])
    )
    keys = sketch.keys_of(values)
    assert (np.diff(keys) >= 0).all()
    nonzero = values != 0
    represented = sketch.values_of(keys)
    relative = np.abs(represented[nonzero] - values[nonzero]) / np.abs(values[nonzero])
    assert relative.max() <= sketch.ALPHA * (1 + 1e-9)


def test_merged_sketches_equal_the_sketch_of_all_values() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.normal(0, 5, n) for n in (10, 1_000, 1, 333)]
    merged = sketch.merge(*(sketch.bins_of(p) for p in parts))
    whole = sketch.bins_of(np.concatenate(parts))
    assert merged[0].tolist() == whole[0].tolist()
    assert merged[1].tolist() == whole[1].tolist()


def test_many_cells_at_once_match_one_at_a_time() -> None:
    rng = np.random.default_rng(5)
    cells = [rng.lognormal(0, 1, n) for n in (1, 2, 50, 400)]
    bins = [sketch.bins_of(c) for c in cells]
    cell = np.concatenate([np.full(len(k), i + 1) for i, (k, _) in enumerate(bins)])
    keys = np.concatenate([k for k, _ in bins])
    counts = np.concatenate([c for _, c in bins])
    together = sketch.quantiles(cell, keys, counts, 0.9, cells=len(cells) + 2)
    assert math.isnan(together[0]) and math.isnan(together[-1])  # cells without values
    for i, (k, c) in enumerate(bins):
        assert together[i + 1] == sketch.quantile(k, c, 0.9)
    assert sketch.quantile([], [], 0.5) is None
