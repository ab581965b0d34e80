"""Stored points of one rule's metric, for priming windows and previews, through the
MetricStore port's `list_points` pages."""

from __future__ import annotations

from domain.alerting.evaluator import Point
from domain.errors import BadUserInput
from domain.matchers import TagMatcher
from domain.metrics.model import decode_point_id
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricsListQuery

__all__ = ["PAGE", "read_points"]

PAGE = 10_000


async def read_points(
    metrics: MetricStore,
    project: str,
    name: str,
    *,
    matchers: tuple[TagMatcher, ...] = (),
    start_us: int,
    end_us: int | None = None,
    limit: int,
    over_limit: str | None = None,
) -> list[Point]:
    """The points of [start, end), oldest first, at most the newest `limit` of them.

    With `over_limit`, finding more than `limit` points raises BadUserInput with that
    message instead of keeping the newest.
    """
    newest_first: list[Point] = []
    after: tuple[int, int] | None = None
    while len(newest_first) < limit:
        page = await metrics.list_points(
            GetMetricsListQuery(
                project,
                name,
                matchers,
                start_us,
                end_us,
                first=min(PAGE, limit - len(newest_first)),
                after=after,
            )
        )
        newest_first += [(m.tags, m.timestamp_us, m.value) for m in page.items]
        if not page.has_next_page or not page.items:
            break
        decoded = decode_point_id(page.items[-1].id)
        if decoded is None:  # a store's id this module cannot page after: stop here
            break
        series, timestamp = decoded
        after = (timestamp, series)
    else:
        if over_limit is not None:
            raise BadUserInput(over_limit)
    newest_first.reverse()
    return newest_first
