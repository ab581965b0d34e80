"""What usage analytics needs from a store: the minutes counted, grouped at read time by
any tags of the series catalogue, the read log, and the rows each tier holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.usage.meter import MinuteCounts
from domain.usage.model import CounterRow, NewSeriesRow, SeriesUsageRow, StoredRows

__all__ = ["UsageStore"]


class UsageStore(Protocol):
    async def record(self, minutes: Sequence[MinuteCounts]) -> None:
        """Add these counts (several instances add theirs for the same minute: they sum)
        and move each read-log entry forward; durable on return."""
        ...

    async def set_gauges(self, minute_us: int, values: dict[tuple[str, str], float]) -> None:
        """(project, figure) -> value sampled at `minute_us` (bytes per tier); a minute
        sampled again keeps the newer value."""
        ...

    async def series_usage(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[SeriesUsageRow]:
        """Per bucket of `step_us` (buckets start at multiples of it since the epoch, as
        rollup tiers do; the range selects minutes) and per value of the `group_by` tags
        ('' where a series lacks one): points ingested and distinct series written."""
        ...

    async def new_series(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[NewSeriesRow]:
        """Series first stored in each bucket, by group (from the catalogue)."""
        ...

    async def counters(
        self, project: str, start_us: int, end_us: int, step_us: int
    ) -> list[CounterRow]: ...

    async def usage_projects(self, start_us: int, end_us: int) -> list[str]:
        """The projects with any usage recorded in the range."""
        ...

    async def projects(self) -> list[str]:
        """The projects with at least one series."""
        ...

    async def catalogue(
        self, project: str, metric: str | None = None
    ) -> list[tuple[str, dict[str, str], int]]:
        """The project's series (of `metric` only, when given): name, tags, first stored."""
        ...

    async def last_reads(self, project: str) -> dict[str, int]:
        """metric -> when it was last read, from the read log."""
        ...

    async def stored_rows(self, project: str | None) -> list[StoredRows]:
        """Rows per metric and tier, as stored now; None: of every project in one pass
        (each row names its project)."""
        ...

    async def series_written(self) -> int:
        """The last minute whose `vigil.usage.*` series were written (0: none yet), kept
        for whichever instance holds the lease next."""
        ...

    async def mark_series_written(self, minute_us: int) -> None:
        """Move `series_written` forward to `minute_us` (never back)."""
        ...

    async def forget_usage(self, before_us: int) -> int:
        """Delete the counted minutes before `before_us`; how many rows went."""
        ...
