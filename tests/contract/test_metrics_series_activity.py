"""`series_activity`: what a store tells the series limits at start (series_limits.py)."""

from __future__ import annotations

import time

from domain.metrics.ports import MetricStore
from tests.contract.data import MINUTE, NOW_US, Point, point_batch, sid_of


async def test_series_with_points_in_the_window_and_those_created_since(
    metrics: MetricStore,
) -> None:
    before = time.time_ns() // 1000
    await metrics.append(
        point_batch(
            "alpha",
            [
                Point("cpu", {"host": "a"}, NOW_US - 10 * MINUTE, 1.0),
                Point("cpu", {"host": "a"}, NOW_US - 5 * MINUTE, 2.0),
                Point("cpu", {"host": "old"}, NOW_US - 90 * MINUTE, 3.0),
            ],
        )
    )
    await metrics.append(point_batch("beta", [Point("mem", {}, NOW_US, 4.0)]))

    activity = await metrics.series_activity(NOW_US - 60 * MINUTE, before - MINUTE)
    assert activity.active == {
        "alpha": {sid_of("alpha", "cpu", {"host": "a"}): NOW_US - 5 * MINUTE},
        "beta": {sid_of("beta", "mem", {}): NOW_US},
    }
    created = {project: len(stamps) for project, stamps in activity.created.items()}
    assert created == {"alpha": 2, "beta": 1}  # every series was stored just now
    assert all(stamp >= before - 1_000 for s in activity.created.values() for stamp in s)

    later = await metrics.series_activity(NOW_US + 1, time.time_ns() // 1000 + MINUTE)
    assert (later.active, later.created) == ({}, {})
