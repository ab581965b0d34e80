"""OTLP/HTTP metrics encoded by the OpenTelemetry Python SDK's own encoders, decoded."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from opentelemetry.exporter.otlp.json.common.metrics_encoder import (
    encode_metrics as encode_json,
)
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource

from infra.collectors import DecodeError, OtlpDecoder


def sdk_metrics() -> Any:
    reader = InMemoryMetricReader()
    resource = Resource.create({"service.name": "shop", "pod.uid": "abc-123"})
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = provider.get_meter("test")
    meter.create_counter("orders", unit="1", description="Orders taken.").add(3, {"shop": "a"})
    meter.create_up_down_counter("queue.depth").add(-2, {"shop": "a"})
    meter.create_gauge("temperature", unit="Cel").set(21.5, {"room": "b"})
    histogram = meter.create_histogram("latency", unit="ms")
    for value in (3, 30, 300):
        histogram.record(value, {"route": "/"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def by_name(points: Any) -> dict[tuple[str, str], tuple[Any, float]]:
    return {(s.name, s.tags.get("le", "")): (s, v) for s, _, v in points.rows()}


def check(points: Any) -> None:
    got = by_name(points)
    orders, value = got[("orders", "")]
    assert (orders.type, orders.help, orders.unit, value) == ("counter", "Orders taken.", "1", 3)
    assert orders.tags == {"shop": "a", "service.name": "shop"}  # pod.uid is not allowed
    assert (got[("queue.depth", "")][0].type, got[("queue.depth", "")][1]) == ("gauge", -2)
    assert got[("temperature", "")][0].unit == "Cel" and got[("temperature", "")][1] == 21.5
    assert got[("latency.count", "")][1] == 3 and got[("latency.sum", "")][1] == 333
    assert got[("latency.bucket", "+Inf")][1] == 3
    assert got[("latency.bucket", "5.0")][1] == 1  # cumulative, as Prometheus stores them
    assert got[("latency.bucket", "50.0")][1] == 2
    assert {s.type for s, _, _ in points.rows() if s.name.startswith("latency")} == {"histogram"}
    assert all(t > 1_600_000_000_000_000 for _, t, _ in points.rows())  # microseconds


def test_protobuf_from_the_sdk_encoder() -> None:
    body = encode_metrics(sdk_metrics()).SerializeToString()
    result = OtlpDecoder().decode(body, content_type="application/x-protobuf")
    check(result.points)
    assert result.rejected_data_points == 0
    assert result.response() == (b"", "application/x-protobuf")


def test_json_from_the_sdk_encoder_gzipped() -> None:
    encoded = encode_json(sdk_metrics())
    text = encoded.to_json() if hasattr(encoded, "to_json") else json.dumps(encoded.to_dict())
    body = gzip.compress(text.encode() if isinstance(text, str) else text)
    result = OtlpDecoder().decode(body, content_type="application/json", content_encoding="gzip")
    check(result.points)


def test_points_vigil_cannot_store_are_rejected_and_reported_as_partial_success() -> None:
    request = encode_metrics(sdk_metrics())
    gauge = next(
        m for m in request.resource_metrics[0].scope_metrics[0].metrics if m.name == "temperature"
    )
    gauge.gauge.data_points[0].as_double = float("nan")
    result = OtlpDecoder().decode(request.SerializeToString(), content_type="application/json"
                                  if False else "application/x-protobuf")  # fmt: skip
    assert result.rejected_data_points == 1
    assert "temperature" in result.points.rejected[0][1]
    assert ("temperature", "") not in by_name(result.points)
    assert ("orders", "") in by_name(result.points)
    body, _ = result.response()
    assert b"temperature" in body


def test_resource_tags_allow_list_is_configurable() -> None:
    body = encode_metrics(sdk_metrics()).SerializeToString()
    points = (
        OtlpDecoder(resource_tags={"pod.uid"})
        .decode(body, content_type="application/x-protobuf")
        .points
    )
    assert by_name(points)[("orders", "")][0].tags == {"shop": "a", "pod.uid": "abc-123"}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\x0a\xff\xff", "application/x-protobuf", 400),  # truncated
        (b"{not json", "application/json", 400),
        (b"", "text/plain", 415),
    ],
)
def test_bad_bodies(body: bytes, content_type: str, status: int) -> None:
    with pytest.raises(DecodeError) as caught:
        OtlpDecoder().decode(body, content_type=content_type)
    assert caught.value.status == status
