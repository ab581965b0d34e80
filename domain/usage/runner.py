"""The usage runner: every instance stores its counts each minute; the one holding the
lease `usage:series` also samples stored bytes and writes each project's `vigil.usage.*`
series, so usage charts, alerts and forecasts like any metric.

The series of minute M are written once M is `lag` old, so that every instance has
stored its counts of M by then (each flushes every `every_seconds`); a minute is written
once: the store keeps the last minute written (`series_written`), and whoever holds the
lease next starts after it, catching up at most an hour. A minute may be written twice
(a holder that stalled past its lease); the store keeps one point per series and
timestamp, so it is the same point again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from domain.errors import Unavailable, VigilError
from domain.ports import Clock, LeaseStore
from domain.usage.meter import UsageMeter
from domain.usage.model import (
    BYTES_PER_ROW,
    COUNTER_FIGURES,
    MINUTE_US,
    RULE_EVALUATIONS,
    USAGE_SOURCE,
    UsageRow,
)
from domain.usage.ports import UsageStore
from domain.usage.query_handlers import project_usage

__all__ = ["LEASE", "UsageRunner", "UsageSettings", "usage_points"]

logger = logging.getLogger("vigil.usage")

LEASE = "usage:series"
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

# What writes a project's points: the ingest command, as any collector's.
WritePoints = Callable[[str, list[dict[str, Any]]], Awaitable[None]]
# The rules this instance evaluates: (project, metric) of each.
RuleMetrics = Callable[[], Iterable[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class UsageSettings:
    owner: str
    every_seconds: float = 60.0
    lag_us: int = 2 * MINUTE_US
    keep_us: int = 31 * DAY_US
    rule_tick_seconds: float = 10.0


class UsageRunner:
    def __init__(
        self,
        meter: UsageMeter,
        store: UsageStore,
        leases: LeaseStore,
        clock: Clock,
        *,
        settings: UsageSettings,
        write: WritePoints | None = None,
        rules: RuleMetrics | None = None,
    ) -> None:
        self.meter = meter
        self.settings = settings
        self.write = write  # set once the bus exists
        self.rules = rules
        self.written_us = 0  # the last minute whose series were written (lease holder)
        self._store = store
        self._leases = leases
        self._clock = clock
        self._sampled_us = clock.now_us()
        self._forgot_us = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop, then store what was counted, the minute under way included."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush(everything=True)
        except Exception:
            logger.exception("usage counts could not be stored at shutdown")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.every_seconds)
            try:
                await self.tick()
            except Exception:  # a bad minute must not end usage accounting
                logger.exception("usage tick failed")

    async def tick(self) -> None:
        await self.flush()
        await self.publish()

    def sample_rules(self) -> None:
        """Each rule this instance evaluates counts one evaluation per tick since the last
        sample, and reads its metric."""
        now = self._clock.now_us()
        elapsed_s = (now - self._sampled_us) / 1_000_000
        self._sampled_us = now
        if self.rules is None:
            return
        rules = list(self.rules())
        ticks = elapsed_s / self.settings.rule_tick_seconds
        for project, _ in rules:
            self.meter.add(project, RULE_EVALUATIONS, ticks)
        self.meter.read_all(rules)

    async def flush(self, *, everything: bool = False) -> int:
        """Store the minutes that are over; how many minutes were stored."""
        self.sample_rules()
        minutes = self.meter.take(everything=everything)
        if not minutes:
            return 0
        try:
            await self._store.record(minutes)
        except BaseException:
            self.meter.give_back(minutes)
            raise
        return len(minutes)

    async def publish(self, now_us: int | None = None) -> int:
        """With the lease: sample bytes, write the series of the minutes now complete,
        forget usage older than `keep`. How many minutes were written."""
        now = self._clock.now_us() if now_us is None else now_us
        ttl = int(max(self.settings.every_seconds * 3, 60) * 1_000_000)
        if not await self._leases.acquire_lease(LEASE, self.settings.owner, now_us=now, ttl_us=ttl):
            self.written_us = 0
            return 0
        minute = now // MINUTE_US * MINUTE_US
        await self._sample_bytes(minute)
        last = (now - self.settings.lag_us) // MINUTE_US * MINUTE_US - MINUTE_US
        if not self.written_us:  # the lease is new to this instance: where the last left
            self.written_us = await self._store.series_written()
        first = self.written_us + MINUTE_US if self.written_us else last
        first = max(first, last - 60 * MINUTE_US)  # after an outage: the last hour at most
        written = 0
        if self.write is not None:
            for at in range(first, last + 1, MINUTE_US):
                for project in await self._store.usage_projects(at, at + MINUTE_US):
                    report = await project_usage(
                        self._store, project, at, at + MINUTE_US, MINUTE_US, ()
                    )
                    if not report.totals:
                        continue
                    try:
                        await self.write(project, usage_points(report.totals[0]))
                    except Unavailable:
                        raise  # the minute is written again next time
                    except VigilError as refused:  # its limits: the other projects go on
                        logger.warning("usage series of %r refused: %s", project, refused)
                await self._store.mark_series_written(at)
                self.written_us = at
                written += 1
        if now - self._forgot_us >= HOUR_US:
            self._forgot_us = now
            await self._store.forget_usage(now - self.settings.keep_us)
        return written

    async def _sample_bytes(self, minute_us: int) -> None:
        """Every project's bytes per tier, in one pass over the store."""
        values: dict[tuple[str, str], float] = {}
        for project in await self._store.projects():
            for tier in BYTES_PER_ROW:
                values[(project, f"bytes.{tier}")] = 0.0
        for rows in await self._store.stored_rows(None):
            key = (rows.project, f"bytes.{rows.tier}")
            values[key] = values.get(key, 0.0) + rows.rows * BYTES_PER_ROW.get(rows.tier, 0)
        if values:
            await self._store.set_gauges(minute_us, values)


def usage_points(row: UsageRow) -> list[dict[str, Any]]:
    """A minute's usage as `createMetrics` points of its project: `vigil.usage.<figure>`
    (bytes as `vigil.usage.bytes` with a `tier` tag), stamped at the minute's start."""
    at_ms = row.bucket_us // 1000

    def point(name: str, value: float, **tags: str) -> dict[str, Any]:
        return {
            "name": f"vigil.usage.{name}",
            "value": float(value),
            "timestamp": at_ms,
            "type": "gauge",
            "category": "vigil",
            "source": USAGE_SOURCE,
            "tags": tags,
        }

    figures = row.figures or {}
    points = [
        point("points", row.points),
        point("series", row.active_series),
        point("new_series", row.new_series),
        *(point(f, figures.get(f, 0.0)) for f in COUNTER_FIGURES),
    ]
    for tier in BYTES_PER_ROW:
        points.append(point("bytes", figures.get(f"bytes.{tier}", 0.0), tier=tier))
    return points
