"""Bad input on every collector endpoint: the protocol's status and a readable message,
nothing of the request stored, and an audit entry like a refused createMetrics. Also
remote-write's own answers (2.0 headers, metadata, staleness markers, NaN)."""

from __future__ import annotations

import gzip
import math
import struct
import time
from pathlib import Path
from typing import Any

import cramjam
import pytest

from infra.collectors.prometheus import CONTENT_TYPE_V1, CONTENT_TYPE_V2
from infra.collectors.prometheus.messages import V1, V2
from tests.api.collectors_support import audit, metadata, names, points, values
from tests.support import RunningVigil, make_settings, serve, token

COLLECTOR = token("agent", demo="collector")
NOW_MS = int(time.time() * 1000)
STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def v1_body(*samples: tuple[str, float], metadata: tuple[str, int, str] | None = None) -> bytes:
    request = V1["WriteRequest"]()
    for host, value in samples:
        series = request.timeseries.add()
        series.labels.add(name="__name__", value="up")
        series.labels.add(name="instance", value=host)
        series.samples.add(timestamp=NOW_MS, value=value)
    if metadata is not None:
        name, kind, help_text = metadata
        request.metadata.add(metric_family_name=name, type=kind, help=help_text)
    return snappy(request.SerializeToString())


def v2_body() -> bytes:
    request = V2["Request"]()
    request.symbols.extend(["", "__name__", "http_requests_total", "job", "api", "Requests.", "1"])
    series = request.timeseries.add()
    series.labels_refs.extend([1, 2, 3, 4])
    series.samples.add(timestamp=NOW_MS, value=7)
    series.metadata.type = 1  # COUNTER
    series.metadata.help_ref, series.metadata.unit_ref = 5, 6
    return snappy(request.SerializeToString())


# (path, headers, a good body, what a user then sees as the metric name)
REMOTE_WRITE = ("/api/v1/write", {"Content-Type": CONTENT_TYPE_V1}, v1_body(("a", 1.0)))
INFLUX_V1 = ("/write?db=x", {}, b"up value=1\n")
INFLUX_V2 = ("/api/v2/write?org=o&bucket=b", {}, b"up value=1\n")
OTLP = ("/v1/metrics", {"Content-Type": "application/json"}, b"")
ENDPOINTS = {"remote-write": REMOTE_WRITE, "influx-v1": INFLUX_V1, "influx-v2": INFLUX_V2}

# (endpoint, Content-Type, body, status, start of the message)
BAD_BODIES = [
    ("/api/v1/write", CONTENT_TYPE_V1, v1_body(("a", 1.0))[:-7], 400, "the body is not valid"),
    ("/api/v1/write", CONTENT_TYPE_V1, b"\x05\x00abc", 400, "the body is not valid snappy"),
    ("/api/v1/write", CONTENT_TYPE_V1, snappy(b"\x0a\x05\x0a\x03"), 400, "the body is not"),
    ("/api/v1/write", "application/json", v1_body(("a", 1.0)), 415, "unsupported Content-Type"),
    ("/api/v1/write", "application/x-protobuf;proto=x.Y", b"", 415, "unsupported remote-write"),
    ("/write?db=x", "text/plain", b"up value=1\nup value=\n", 400, "line 2:"),
    ("/write?db=x", "text/plain", b"up value=NaN\n", 400, "line 1:"),
    ("/write?db=x&precision=fortnight", "text/plain", b"up value=1\n", 400, "unknown precision"),
    ("/api/v2/write?org=o", "text/plain", b"up value=1\n", 400, "the bucket query parameter"),
    ("/api/v2/write?org=o&bucket=b", "text/plain", b"up value=inf\n", 400, "line 1:"),
    ("/v1/metrics", "application/x-protobuf", b"\x0a\xff\xff", 400, "the body is not a valid"),
    ("/v1/metrics", "application/json", b'{"resourceMetrics": 3}', 400, "the body is not"),
    ("/v1/metrics", "text/csv", b"a,b", 415, "unsupported Content-Type"),
]


async def post(
    vigil: RunningVigil, path: str, body: bytes, *, auth: str | None = COLLECTOR, **headers: str
) -> Any:
    if auth is not None:
        headers["Authorization"] = f"Bearer {auth}"
    return await vigil.http.post(path, content=body, headers=headers)


def message_of(answer: Any) -> str:
    kind = answer.headers.get("content-type", "")
    if "json" in kind:
        body = answer.json()
        return str(body.get("message") or body.get("error"))
    if "protobuf" in kind:  # google.rpc.Status: code (field 1), message (field 2)
        status = answer.content
        at = status.index(b"\x12") + 1
        while status[at] & 0x80:  # the message's length, a varint
            at += 1
        return status[at + 1 :].decode()
    return str(answer.text)


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "message"),
    BAD_BODIES,
    # Named by what they show, not by their bodies: some carry the time they were built at.
    ids=[f"{path.split('?')[0]}-{status}-{message}" for path, _, _, status, message in BAD_BODIES],
)
async def test_a_bad_body_is_refused_audited_and_stores_nothing(
    tmp_path: Path, path: str, content_type: str, body: bytes, status: int, message: str
) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await post(vigil, path, body, **{"Content-Type": content_type})
        assert answer.status_code == status, answer.text
        assert message_of(answer).startswith(message), message_of(answer)
        assert await names(vigil) == []
        (entry,) = await audit(vigil)
        assert (entry["actor"], entry["outcome"]) == ("agent", "BAD_USER_INPUT")
        assert entry["detail"]["status"] == status
        assert entry["detail"]["endpoint"] == path.split("?")[0]


@pytest.mark.parametrize("endpoint", [*ENDPOINTS.values(), OTLP], ids=[*ENDPOINTS, "otlp"])
async def test_a_wrong_token_is_refused_on_every_endpoint(
    tmp_path: Path, endpoint: tuple[str, dict[str, str], bytes]
) -> None:
    path, headers, body = endpoint
    path += ("&" if "?" in path else "?") + "project=demo"
    async with serve(make_settings(tmp_path)) as vigil:
        forged = COLLECTOR[:-4] + ("AAAA" if not COLLECTOR.endswith("AAAA") else "BBBB")
        answer = await post(vigil, path, body, auth=forged, **headers)
        assert answer.status_code == 401
        assert "token" in message_of(answer).lower()
        anonymous = await post(vigil, path, body, auth=None, **headers)
        assert anonymous.status_code == 401
        assert await names(vigil) == []
        entries = await audit(vigil)
        assert [(e["actor"], e["outcome"]) for e in entries] == [
            ("anonymous", "UNAUTHENTICATED"),
            ("anonymous", "UNAUTHENTICATED"),
        ]


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=list(ENDPOINTS))
async def test_a_body_over_the_limit_is_refused_with_413(
    tmp_path: Path, endpoint: tuple[str, dict[str, str], bytes]
) -> None:
    path, headers, _ = endpoint
    settings = make_settings(tmp_path, max_body_bytes=8192, collector_max_decoded_bytes=16384)
    async with serve(settings) as vigil:
        raw = b"up value=1\n" * 2000  # 22 kB once decoded
        if path.startswith("/api/v1"):
            big = snappy(v1_request_of(1000))  # 36 kB once decoded
        else:
            big, headers = gzip.compress(raw), {**headers, "Content-Encoding": "gzip"}
        assert len(big) < 8192
        inflated = await post(vigil, path, big, **headers)
        assert inflated.status_code == 413
        assert "exceeds the limit of 16384 bytes" in message_of(inflated)
        sent = await post(vigil, path, raw, **headers)  # over the limit as sent
        assert sent.status_code == 413
        assert await names(vigil) == []


def v1_request_of(count: int) -> bytes:
    request = V1["WriteRequest"]()
    for i in range(count):
        series = request.timeseries.add()
        series.labels.add(name="__name__", value="up")
        series.labels.add(name="instance", value=f"host-{i}")
        series.samples.add(timestamp=NOW_MS, value=1)
    return request.SerializeToString()


async def test_remote_write_points_older_than_the_retention_are_refused_whole(
    tmp_path: Path,
) -> None:
    request = V1["WriteRequest"]()
    for stamp in (NOW_MS, 1_000_000_000_000):  # now, and 2001
        series = request.timeseries.add()
        series.labels.add(name="__name__", value="up")
        series.labels.add(name="at", value=str(stamp))
        series.samples.add(timestamp=stamp, value=1)
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await post(
            vigil, "/api/v1/write", snappy(request.SerializeToString()), **REMOTE_WRITE[1]
        )
        assert answer.status_code == 400  # Prometheus drops it rather than retrying forever
        assert "#1: timestamp is older than the retention period" in answer.text
        assert await names(vigil) == []
        (entry,) = await audit(vigil)  # the command's own audit entry
        assert (entry["actor"], entry["outcome"]) == ("agent", "BAD_USER_INPUT")


async def test_remote_write_2_answers_what_it_wrote_and_keeps_help_and_unit(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await post(vigil, "/api/v1/write", v2_body(), **{"Content-Type": CONTENT_TYPE_V2})
        assert answer.status_code == 204
        assert answer.headers["X-Prometheus-Remote-Write-Samples-Written"] == "1"
        assert answer.headers["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
        assert answer.headers["X-Prometheus-Remote-Write-Exemplars-Written"] == "0"
        (point,) = await points(vigil, "http_requests_total")
        assert (point["value"], point["tags"], point["type"]) == (7.0, {"job": "api"}, "COUNTER")
        assert (await metadata(vigil))["http_requests_total"] == {
            "name": "http_requests_total",
            "type": "COUNTER",
            "help": "Requests.",
            "unit": "1",
        }


async def test_remote_write_1_metadata_sent_on_its_own_is_kept(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        first = await post(vigil, "/api/v1/write", v1_body(("a", 1.0)), **REMOTE_WRITE[1])
        assert first.status_code == 204
        only_metadata = v1_body(metadata=("up", 2, "1 if the target answered."))  # GAUGE
        assert (await post(vigil, "/api/v1/write", only_metadata)).status_code == 204
        assert (await metadata(vigil))["up"] == {
            "name": "up",
            "type": "GAUGE",
            "help": "1 if the target answered.",
            "unit": "",
        }


async def test_remote_write_skips_staleness_markers_and_nan_samples(tmp_path: Path) -> None:
    """A staleness marker says a series ended; NaN is a valid Prometheus sample Vigil
    cannot store. Neither fails the batch (Prometheus would drop the good samples too)."""
    body = v1_body(("a", 1.0), ("b", STALE), ("c", math.nan), ("d", 4.0))
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await post(vigil, "/api/v1/write", body, **REMOTE_WRITE[1])
        assert answer.status_code == 204
        assert answer.headers["X-Prometheus-Remote-Write-Samples-Written"] == "3"
        stored = await points(vigil, "up")
        assert sorted((p["tags"]["instance"], p["value"]) for p in stored) == [
            ("a", 1.0),
            ("d", 4.0),
        ]


async def test_otlp_partial_success_names_what_was_not_stored(tmp_path: Path) -> None:
    body = (
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": ['
        b'{"name": "good", "gauge": {"dataPoints": [{"timeUnixNano": "%d", "asDouble": 1.5}]}},'
        b'{"name": "bad", "gauge": {"dataPoints": [{"timeUnixNano": "%d"}]}}'
        b"]}]}]}"
    ) % (NOW_MS * 1_000_000, NOW_MS * 1_000_000)
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await post(vigil, "/v1/metrics", body, **OTLP[1])
        assert answer.status_code == 200
        assert answer.json() == {
            "partialSuccess": {
                "rejectedDataPoints": "1",
                "errorMessage": "metric 'bad': the data point has no value",
            }
        }
        assert await values(vigil, "good") == [1.5]
        assert await names(vigil) == ["good"]


async def test_the_project_comes_from_the_token_or_is_named(tmp_path: Path) -> None:
    two = token("agent", demo="collector", ops="collector")
    line = b"up value=1\n"
    async with serve(make_settings(tmp_path)) as vigil:
        unnamed = await post(vigil, "/write", line, auth=two)
        assert unnamed.status_code == 400
        assert "name one with the project query parameter" in unnamed.json()["error"]
        assert (await post(vigil, "/write?project=ops", line, auth=two)).status_code == 204
        header = await post(vigil, "/write", line, auth=two, **{"X-Vigil-Project": "demo"})
        assert header.status_code == 204
        other = await post(vigil, "/write?project=secret", line, auth=two)
        assert other.status_code == 403
        assert await values(vigil, "up", "ops") == [1.0]
        assert await values(vigil, "up", "demo") == [1.0]
        assert await names(vigil, "secret") == []
