"""Self-monitoring: Vigil records its own vitals into the `system` project every interval."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

from domain.access import SYSTEM_PROJECT
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.series_limits import SeriesLimiter

__all__ = ["SelfMonitor", "count_points", "monitor_point", "series_points"]

logger = logging.getLogger("vigil.selfmon")

MAX_LATENCY_SAMPLES = 10_000


class SelfMonitor:
    """Counters fed by the HTTP edge, the websocket endpoint and the ingest path."""

    def __init__(self, *, instance: str | None = None) -> None:
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.requests = 0
        self.http_errors = 0
        self.graphql_errors: Counter[str] = Counter()
        self.points = 0
        self.websockets = 0
        # Event-bus messages dropped as unsigned or badly signed (set once the bus exists).
        self.bus_rejected: Callable[[], int] = lambda: 0
        self._latencies: list[float] = []
        self._process = psutil.Process()
        self._process.cpu_percent()  # the first reading is always 0: prime it
        self._last_points = 0
        self._last_time = time.monotonic()

    def observe_request(self, seconds: float, status: int) -> None:
        self.requests += 1
        if status >= 500:
            self.http_errors += 1
        if len(self._latencies) < MAX_LATENCY_SAMPLES:
            self._latencies.append(seconds * 1000)

    def observe_error(self, code: str) -> None:
        self.graphql_errors[code] += 1

    def observe_points(self, count: int) -> None:
        self.points += count

    def snapshot(self, *, subscriptions: int, alerts: int = 0) -> list[dict[str, Any]]:
        """The points of one interval; resets the latency samples. `alerts`: how many
        alerts this instance evaluates (its share, with several instances)."""
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-9)
        rate = (self.points - self._last_points) / elapsed
        self._last_points, self._last_time = self.points, now
        tags = {"instance": self.instance}

        def point(name: str, value: float, type_: str = "gauge", **extra: str) -> dict[str, Any]:
            return monitor_point(name, value, type_, {**tags, **extra})

        points = [
            point("vigil.api.requests_total", self.requests, "counter"),
            point("vigil.api.errors_total", self.http_errors, "counter", code="HTTP_5XX"),
            point("vigil.ingest.points_total", self.points, "counter"),
            point("vigil.ingest.points_per_second", rate),
            point("vigil.ws.connections", self.websockets),
            point("vigil.ws.subscriptions", subscriptions),
            point("vigil.bus.rejected_messages_total", self.bus_rejected(), "counter"),
            point("vigil.alerting.alerts_evaluated", alerts),
            point("vigil.process.cpu_percent", self._process.cpu_percent()),
            point("vigil.process.memory_rss_bytes", self._process.memory_info().rss),
        ]
        points += [
            point("vigil.api.errors_total", count, "counter", code=code)
            for code, count in sorted(self.graphql_errors.items())
        ]
        if self._latencies:
            samples = np.asarray(self._latencies)
            self._latencies = []
            for label, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
                points.append(point("vigil.api.latency_ms", np.percentile(samples, q), stat=label))
        return points

    async def run(
        self,
        bus: MessageBus,
        *,
        interval: float,
        subscriptions: Callable[[], int],
        alerts: Callable[[], int] = lambda: 0,
        extra: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        """Record a snapshot every `interval` seconds until cancelled; `extra` adds points
        others count (security events, collectors' clock offsets: infra/compliance)."""
        while True:
            await asyncio.sleep(interval)
            try:
                points = self.snapshot(subscriptions=subscriptions(), alerts=alerts())
                points += extra()
                await bus.handle(CreateMetricsCommand(SYSTEM_PROJECT, points))
            except Exception:  # a bad tick must not end self-monitoring
                logger.exception("self-monitoring snapshot failed")


def monitor_point(name: str, value: float, type_: str, tags: dict[str, str]) -> dict[str, Any]:
    """One of Vigil's own points, as `createMetrics` takes it into project `system`."""
    return {
        "name": name,
        "value": float(value),
        "type": type_,
        "category": "vigil",
        "source": "self-monitor",
        "tags": tags,
    }


async def count_points(event: MetricCollectedEvent, *, monitor: SelfMonitor) -> None:
    """The MetricCollectedEvent handler behind `vigil.ingest.points`."""
    monitor.observe_points(len(event.values))


def series_points(limiter: SeriesLimiter, instance: str) -> list[dict[str, Any]]:
    """Each project's series counts against its limits (docs/metrics.md, "Series
    limits"), as this instance counts them, and its refused batches by limit."""

    def point(name: str, value: float, type_: str, **tags: str) -> dict[str, Any]:
        return monitor_point(name, value, type_, {"instance": instance, **tags})

    points = []
    for project, (active, created) in sorted(limiter.counts().items()):
        points.append(point("vigil.series.active", active, "gauge", project=project))
        points.append(point("vigil.series.created_last_minute", created, "gauge", project=project))
    for (project, limit), refused in sorted(limiter.refused.items()):
        points.append(
            point(
                "vigil.series.refused_batches_total",
                refused,
                "counter",
                project=project,
                limit=limit,
            )
        )
    return points
