"""StatsD over UDP into the ingest command: each flush interval's points, as one batch."""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.ingest import BatchRejected, PointColumns
from infra.collectors.decoded import DecodedPoints
from infra.collectors.statsd import StatsdServer

__all__ = ["ACTOR", "parse_address", "start_statsd"]

log = logging.getLogger("vigil.collectors.statsd")

ACTOR = "statsd"  # UDP carries no identity: the audit trail names the listener
DEFAULT_PORT = 8125


def parse_address(text: str) -> tuple[str, int]:
    """`host:port`, `host` (port 8125) or `[v6]:port`; ValueError if it is none of these."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or "]" in port:
        host, port = text.strip(), str(DEFAULT_PORT)
    host = host.strip("[]")
    number = int(port)
    if not host or not 0 <= number <= 65_535:
        raise ValueError(text)
    return host, number


async def start_statsd(
    stack: contextlib.AsyncExitStack,
    *,
    address: str,
    project: str,
    interval: float,
    bus: MessageBus,
) -> StatsdServer:
    """Listen on `address` until `stack` closes; the last interval is stored on the way out."""

    async def on_flush(points: DecodedPoints) -> None:
        await _store(bus, project, points)

    server = StatsdServer(on_flush, interval=interval)
    host, port = parse_address(address)
    await server.start(host, port)
    stack.push_async_callback(server.stop)
    log.info("StatsD: listening on %s:%d for project %s", *server.address, project)
    return server


async def _store(bus: MessageBus, project: str, points: DecodedPoints) -> None:
    """A sender cannot be told that a metric was refused (UDP), so a bad series (a name
    Vigil does not accept) is dropped and logged, and the rest of the interval stored."""
    columns = _columns(points)
    try:
        await bus.handle(CreateMetricsCommand(project, columns), actor=ACTOR)
        return
    except BatchRejected as rejected:
        bad_points = [e.index for e in rejected.errors]
        log.warning("StatsD: dropped what this interval could not store: %s", rejected.message)
    keep = ~np.isin(points.series_index, np.unique(points.series_index[bad_points]))
    keep[bad_points] = False
    if keep.any():
        kept = DecodedPoints(
            series=points.series,
            series_index=points.series_index[keep],
            timestamps_us=points.timestamps_us[keep],
            values=points.values[keep],
        )
        await bus.handle(CreateMetricsCommand(project, _columns(kept)), actor=ACTOR)


def _columns(points: DecodedPoints) -> PointColumns:
    return PointColumns(
        points.series,
        points.series_index,
        points.timestamps_us,
        points.values,
        source="statsd",
    )
