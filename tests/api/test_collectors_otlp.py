"""The OpenTelemetry Python SDK exporting to `/v1/metrics` with its OTLP/HTTP exporters
(protobuf and JSON): a counter, an up-down counter, a gauge and a histogram arrive as
docs/collectors.md says, with their units and descriptions in the catalogue."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.json.http.metric_exporter import (
    OTLPMetricExporter as JsonExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as ProtobufExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from tests.api.collectors_support import metadata, names, points, values
from tests.support import make_settings, serve, token

COLLECTOR = token("otel", demo="collector")


def export(exporter: Any) -> None:
    """One export of a counter, an up-down counter, a gauge and a histogram."""
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({"service.name": "shop", "pod.uid": "abc-123"})
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = provider.get_meter("checkout")
    meter.create_counter("orders", unit="1", description="Orders taken.").add(3, {"shop": "a"})
    meter.create_up_down_counter("queue.depth").add(-2, {"shop": "a"})
    meter.create_gauge("temperature", unit="Cel", description="Room air.").set(21.5, {"room": "b"})
    latency = meter.create_histogram("latency", unit="ms", description="Checkout time.")
    for value in (3, 30, 300):
        latency.record(value, {"route": "/pay"})
    provider.shutdown()  # its last collection is exported before it returns


@pytest.mark.parametrize(
    "make",
    [
        lambda url: ProtobufExporter(f"{url}/v1/metrics", headers=_auth()),
        lambda url: ProtobufExporter(
            f"{url}/v1/metrics", headers=_auth(), compression=Compression.Gzip
        ),
        lambda url: JsonExporter(f"{url}/v1/metrics", headers=_auth()),
    ],
    ids=["protobuf", "protobuf-gzip", "json"],
)
async def test_the_sdk_exporters(tmp_path: Path, make: Any) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        await asyncio.to_thread(export, make(vigil.url))

        assert await names(vigil) == [
            "latency.bucket",
            "latency.count",
            "latency.sum",
            "orders",
            "queue.depth",
            "temperature",
        ]
        (orders,) = await points(vigil, "orders")
        assert (orders["value"], orders["type"], orders["source"]) == (3.0, "COUNTER", "otlp")
        assert orders["tags"] == {"shop": "a", "service.name": "shop"}  # pod.uid: not allowed
        (depth,) = await points(vigil, "queue.depth")
        assert (depth["value"], depth["type"]) == (-2.0, "GAUGE")  # not monotonic: a gauge
        assert await values(vigil, "temperature") == [21.5]
        assert await values(vigil, "latency.count") == [3.0]
        assert await values(vigil, "latency.sum") == [333.0]
        buckets = {p["tags"]["le"]: p["value"] for p in await points(vigil, "latency.bucket")}
        assert (buckets["5.0"], buckets["50.0"], buckets["500.0"], buckets["+Inf"]) == (1, 2, 3, 3)

        described = await metadata(vigil)
        assert described["orders"] == {
            "name": "orders",
            "type": "COUNTER",
            "help": "Orders taken.",
            "unit": "1",
        }
        assert described["temperature"]["unit"] == "Cel"
        assert described["latency.bucket"] == {  # the family's description
            "name": "latency.bucket",
            "type": "HISTOGRAM",
            "help": "Checkout time.",
            "unit": "ms",
        }


async def test_a_refused_export_fails_in_the_sdk_and_stores_nothing(tmp_path: Path) -> None:
    viewer = token("eve", demo="viewer")
    async with serve(make_settings(tmp_path)) as vigil:
        exporter = ProtobufExporter(
            f"{vigil.url}/v1/metrics", headers={"Authorization": f"Bearer {viewer}"}
        )
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(metric_readers=[reader])
        provider.get_meter("m").create_counter("orders").add(1)
        results: list[MetricExportResult] = []
        original = exporter.export

        def export_and_keep(*args: Any, **kwargs: Any) -> MetricExportResult:
            result = original(*args, **kwargs)
            results.append(result)
            return result

        exporter.export = export_and_keep  # type: ignore[method-assign]
        await asyncio.to_thread(provider.shutdown)
        assert results and results[0] is MetricExportResult.FAILURE
        assert await names(vigil) == []


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {COLLECTOR}"}
