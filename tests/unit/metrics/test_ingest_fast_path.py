"""The ingest fast path: the series cache and the columnar path agree with the slow one."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from domain.metrics.ingest import BatchRejected, IngestLimits
from tests.unit.fakes import NOW_US

LIMITS = IngestLimits()


def point(**fields: Any) -> dict[str, Any]:
    """A good point, with `fields` replacing its keys."""
    raw: dict[str, Any] = {"name": "cpu.load", "value": 0.5, "tags": {"host": "web-1"}}
    raw.update(fields)
    return raw


def test_a_series_cache_checks_each_series_once_across_batches() -> None:
    from domain.metrics.ingest import IngestLimits, SeriesCache, validate_points

    cache = SeriesCache()
    now = 1_800_000_000_000_000
    first = validate_points("p", [point()], now_us=now, limits=IngestLimits(), cache=cache)
    again = validate_points("p", [point()], now_us=now, limits=IngestLimits(), cache=cache)
    other = validate_points("q", [point()], now_us=now, limits=IngestLimits(), cache=cache)
    assert again.series[0] is first.series[0]  # reused, not checked and hashed again
    assert other.series[0].id != first.series[0].id  # the project is part of the key
    with pytest.raises(BatchRejected):
        validate_points("p", [point(type="timer")], now_us=now, limits=IngestLimits(), cache=cache)
    assert len(cache) == 2  # a rejected series is never cached


def _iso(us: int) -> str:
    from datetime import UTC, datetime

    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    return moment.astimezone(timezone(timedelta(hours=2))).isoformat()


@pytest.mark.parametrize(
    "points",
    [
        [point(value=i, timestamp=NOW_US // 1000 - i) for i in range(50)],
        [point(timestamp=_iso(NOW_US - 1_234_567)), point(timestamp=_iso(NOW_US - 7))],
        [point(timestamp=None), point(name="other")],
        [point(), point(tags={"b": "2", "a": "1"}), point(tags={"a": "1", "b": "2"})],
        [point(type="counter", category="c", source="s"), point(name="other", tags=None)],
        [point(value=0.1 + i, timestamp=(NOW_US // 1000) - 0.5 - i) for i in range(10)],
    ],
    ids=["epoch-ms", "iso", "now", "tag-order", "attributes", "fractional-ms"],
)
def test_the_columnar_fast_path_agrees_with_the_point_by_point_path(
    points: list[dict[str, Any]],
) -> None:
    from domain.metrics.ingest import SeriesCache
    from domain.metrics.ingest.columns import fast_batch
    from domain.metrics.ingest.validate import point_by_point

    now = NOW_US
    fast = fast_batch("acme", points, now_us=now, limits=LIMITS, cache=SeriesCache())
    slow = point_by_point("acme", points, now_us=now, limits=LIMITS, cache=SeriesCache())
    assert fast is not None
    assert fast.series == slow.series
    assert fast.series_index == slow.series_index
    assert fast.timestamps_us == slow.timestamps_us
    assert fast.values == slow.values
    assert all(type(v) is float for v in fast.values)
    assert all(type(t) is int for t in fast.timestamps_us)
