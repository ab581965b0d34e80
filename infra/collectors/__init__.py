"""Collector wire formats decoded into Vigil's neutral, columnar DecodedPoints.

Each decoder keeps a cache of the series it has seen, so make one per endpoint and reuse it.
"""

from infra.collectors.decoded import DecodedPoints, DecodedSeries, DecodeError, MetricFamily
from infra.collectors.influx import InfluxParams, LineProtocolDecoder, v1_params, v2_params
from infra.collectors.otlp import OtlpDecoder, OtlpResult
from infra.collectors.prometheus import RemoteWriteDecoder, RemoteWriteResult
from infra.collectors.statsd import StatsdAggregator, StatsdServer

__all__ = [
    "DecodeError",
    "DecodedPoints",
    "DecodedSeries",
    "InfluxParams",
    "LineProtocolDecoder",
    "MetricFamily",
    "OtlpDecoder",
    "OtlpResult",
    "RemoteWriteDecoder",
    "RemoteWriteResult",
    "StatsdAggregator",
    "StatsdServer",
    "v1_params",
    "v2_params",
]
