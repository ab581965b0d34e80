"""The Grid input: immutable, finite or NaN, windows on its own buckets."""

from __future__ import annotations

import numpy as np
import pytest

from domain.analytics.series import MINUTE_US, Grid


def test_window_and_times() -> None:
    g = Grid(1_000 * MINUTE_US, MINUTE_US, np.arange(10.0), {"host": "a"})
    assert g.end_us == 1_010 * MINUTE_US
    part = g.window(1_002 * MINUTE_US + 1, 1_005 * MINUTE_US)
    assert part.start_us == 1_003 * MINUTE_US and list(part.values) == [3.0, 4.0]
    assert part.tags == {"host": "a"}
    assert len(g.window(0, 10)) == 0
    assert g.times_us()[3] == g.time_of(3) == 1_003 * MINUTE_US


def test_values_cannot_change_and_infinity_is_refused() -> None:
    g = Grid(0, MINUTE_US, np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        g.values[0] = 2.0
    with pytest.raises(ValueError, match="finite"):
        Grid(0, MINUTE_US, np.array([np.inf]))
    with pytest.raises(ValueError, match="step"):
        Grid(0, 0, np.zeros(3))
