"""StatsD / DogStatsD over UDP: line parsing, per-interval aggregation, the listener."""

from infra.collectors.statsd.aggregate import DEFAULT_PERCENTILES, StatsdAggregator
from infra.collectors.statsd.parse import Sample, StatsdLineError, parse_line
from infra.collectors.statsd.server import FlushCallback, StatsdServer

__all__ = [
    "DEFAULT_PERCENTILES",
    "FlushCallback",
    "Sample",
    "StatsdAggregator",
    "StatsdLineError",
    "StatsdServer",
    "parse_line",
]
