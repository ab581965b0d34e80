"""Prometheus remote-write 1.0 and 2.0 bodies, as senders build them, decoded."""

from __future__ import annotations

import struct
from typing import Any

import cramjam
import pytest

from infra.collectors import DecodeError, RemoteWriteDecoder
from infra.collectors.interning import SeriesInterner
from infra.collectors.prometheus import CONTENT_TYPE_V1, CONTENT_TYPE_V2, remote_write_version
from infra.collectors.prometheus.generic import decode_v1, decode_v2
from infra.collectors.prometheus.messages import V1, V2

T0 = 1_700_000_000_000  # ms
STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def v1_request(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> Any:
    request = V1["WriteRequest"]()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for stamp, value in samples:
            ts.samples.add(timestamp=stamp, value=value)
    return request


def v2_request(series: list[tuple[dict[str, str], list[tuple[int, float]], Any]]) -> Any:
    request = V2["Request"]()
    symbols: dict[str, int] = {"": 0}

    def ref(text: str) -> int:
        return symbols.setdefault(text, len(symbols))

    for labels, samples, meta in series:
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels_refs.extend([ref(name), ref(value)])
        for stamp, value in samples:
            ts.samples.add(timestamp=stamp, value=value)
        if meta:
            kind, help, unit = meta
            ts.metadata.type = kind
            ts.metadata.help_ref = ref(help)
            ts.metadata.unit_ref = ref(unit)
    request.symbols.extend(symbols)
    return request


def rows(points: Any) -> list[tuple[str, dict[str, str], int, float]]:
    return [(s.name, s.tags, t, v) for s, t, v in points.rows()]


def test_v1_as_prometheus_sends_it_one_sample_per_series() -> None:
    body = v1_request(
        [
            ({"__name__": "up", "job": "node", "instance": "a:9100"}, [(T0, 1.0)]),
            ({"__name__": "node_load1", "instance": "a:9100"}, [(T0 + 15, 0.25)]),
            ({"__name__": "up", "job": "node", "instance": "a:9100"}, [(T0 + 15_000, 0.0)]),
        ]
    ).SerializeToString()
    result = RemoteWriteDecoder().decode(snappy(body), content_type=CONTENT_TYPE_V1)
    assert rows(result.points) == [
        ("up", {"instance": "a:9100", "job": "node"}, T0 * 1000, 1.0),
        ("node_load1", {"instance": "a:9100"}, (T0 + 15) * 1000, 0.25),
        ("up", {"instance": "a:9100", "job": "node"}, (T0 + 15_000) * 1000, 0.0),
    ]
    assert len(result.points.series) == 2
    assert (result.version, result.samples_written) == (1, 3)


def test_v1_fast_path_matches_the_message_by_message_decoder() -> None:
    series = [
        ({"__name__": f"m_{i % 7}", "i": str(i), "long": "x" * (i * 40)}, [(T0 - i * 3, i * 0.5)])
        for i in range(300)
    ]
    data = v1_request(series).SerializeToString()
    fast = RemoteWriteDecoder().decode(snappy(data), content_type=None)
    assert rows(fast.points) == rows(decode_v1(data, SeriesInterner()).points)
    # And a shape only the generic path reads (two samples in one series) gives the same rows.
    many = v1_request([({"__name__": "x"}, [(T0, 1.0), (T0 + 1, 2.0)])]).SerializeToString()
    assert rows(RemoteWriteDecoder().decode(snappy(many), content_type=None).points) == [
        ("x", {}, T0 * 1000, 1.0),
        ("x", {}, (T0 + 1) * 1000, 2.0),
    ]


def test_staleness_markers_are_dropped_and_nan_is_rejected_not_stored() -> None:
    body = v1_request(
        [
            ({"__name__": "a"}, [(T0, STALE)]),
            ({"__name__": "b"}, [(T0, float("nan"))]),
            ({"__name__": "c"}, [(T0, float("inf"))]),
            ({"__name__": "d"}, [(T0, 4.0)]),
        ]
    ).SerializeToString()
    result = RemoteWriteDecoder().decode(snappy(body), content_type=None)
    assert rows(result.points) == [("d", {}, T0 * 1000, 4.0)]
    assert [index for index, _ in result.points.rejected] == [1, 2]
    assert "not a finite number" in result.points.rejected[0][1]
    assert result.samples_written == 2  # the marker was honoured, d was written


def test_v1_metadata_gives_types_and_help_and_native_histograms_count_and_sum() -> None:
    request = v1_request([({"__name__": "req_total", "code": "200"}, [(T0, 7.0)])])
    request.metadata.add(type=1, metric_family_name="req_total", help="Requests.")
    ts = request.timeseries.add()
    ts.labels.add(name="__name__", value="latency")
    ts.histograms.add(count_int=4, sum=2.5, timestamp=T0)
    result = RemoteWriteDecoder().decode(snappy(request.SerializeToString()), content_type=None)
    by_name = {s.name: s for s in result.points.series}
    assert (by_name["req_total"].type, by_name["req_total"].help) == ("counter", "Requests.")
    assert [(f.name, f.type, f.help) for f in result.points.families] == [
        ("req_total", "counter", "Requests.")
    ]
    assert sorted((s.name, v) for s, _, v in result.points.rows()) == [
        ("latency_count", 4.0),
        ("latency_sum", 2.5),
        ("req_total", 7.0),
    ]
    assert (result.samples_written, result.histograms_written) == (1, 1)


def test_v2_symbols_refs_and_metadata_and_the_written_headers() -> None:
    request = v2_request(
        [
            ({"__name__": "http_requests_total", "code": "200"}, [(T0, 3.0)], (1, "Reqs.", "")),
            ({"__name__": "temp", "room": "b"}, [(T0, 21.5)], (2, "Temperature.", "celsius")),
            ({"__name__": "temp", "room": "c"}, [(T0, STALE)], None),
        ]
    )
    result = RemoteWriteDecoder().decode(
        snappy(request.SerializeToString()), content_type=CONTENT_TYPE_V2
    )
    assert result.version == 2
    got = {
        (s.name, s.tags.get("code") or s.tags.get("room")): s for s, _, _ in result.points.rows()
    }
    counter = got[("http_requests_total", "200")]
    assert (counter.type, counter.help, counter.unit) == ("counter", "Reqs.", "")
    temp = got[("temp", "b")]
    assert (temp.type, temp.help, temp.unit) == ("gauge", "Temperature.", "celsius")
    assert result.headers() == {
        "X-Prometheus-Remote-Write-Samples-Written": "3",
        "X-Prometheus-Remote-Write-Histograms-Written": "0",
        "X-Prometheus-Remote-Write-Exemplars-Written": "0",
    }


def test_v2_fast_path_matches_the_message_by_message_decoder() -> None:
    series = [
        ({"__name__": f"m{i % 5}", "i": str(i)}, [(T0 + i, float(i))], (i % 3, f"h{i % 4}", ""))
        for i in range(400)
    ]
    data = v2_request(series).SerializeToString()
    fast = RemoteWriteDecoder().decode(snappy(data), content_type=CONTENT_TYPE_V2)
    generic = decode_v2(data, SeriesInterner())
    assert rows(fast.points) == rows(generic.points)
    assert [s.help for s, _, _ in fast.points.rows()] == [
        s.help for s, _, _ in generic.points.rows()
    ]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_hand_encoded_wire_bytes_decode_as_the_specifications_number_the_fields() -> None:
    # Built without our message classes, so a wrong field number in them would show here.
    label = _field(1, b"__name__") + _field(2, b"up")
    sample = b"\x09" + struct.pack("<d", 1.0) + b"\x10" + _varint(T0)
    v1 = _field(1, _field(1, label) + _field(2, sample))
    result = RemoteWriteDecoder().decode(snappy(v1), content_type=None)
    assert rows(result.points) == [("up", {}, T0 * 1000, 1.0)]
    refs = _varint(1) + _varint(2)
    meta = b"\x08\x02" + b"\x18" + _varint(3)
    series = _field(1, refs) + _field(2, sample) + _field(5, meta)
    v2 = b"".join(_field(4, s) for s in (b"", b"__name__", b"up", b"Up?")) + _field(5, series)
    result = RemoteWriteDecoder().decode(snappy(v2), content_type=CONTENT_TYPE_V2)
    assert rows(result.points) == [("up", {}, T0 * 1000, 1.0)]
    assert result.points.series[0].help == "Up?"


@pytest.mark.parametrize(
    ("content_type", "version"),
    [
        (None, 1),
        ("application/x-protobuf", 1),
        ("application/x-protobuf; proto=prometheus.WriteRequest", 1),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", 2),
    ],
)
def test_content_types_name_the_version(content_type: str | None, version: int) -> None:
    assert remote_write_version(content_type) == version


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/json", "snappy"),
        ("application/x-protobuf;proto=io.prometheus.write.v3.Request", "snappy"),
        (CONTENT_TYPE_V1, "gzip"),
    ],
)
def test_unknown_content_type_or_encoding_is_415(content_type: str, encoding: str) -> None:
    with pytest.raises(DecodeError) as caught:
        RemoteWriteDecoder().decode(b"", content_type=content_type, content_encoding=encoding)
    assert caught.value.status == 415


def _bad_v2_refs() -> bytes:
    request = v2_request([({"__name__": "x"}, [(T0, 1.0)], None)])
    request.timeseries[0].labels_refs.append(99)
    return request.SerializeToString()


def _bad_symbols() -> bytes:
    request = V2["Request"](symbols=["__name__", "x"])
    request.timeseries.add(labels_refs=[0, 1]).samples.add(value=1.0, timestamp=T0)
    return request.SerializeToString()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"\x0a\x05garbage", None, 400, "not valid snappy"),
        (snappy(v1_request([({"__name__": "x"}, [(T0, 1.0)])]).SerializeToString()[:-3]), None, 400,
         "not a valid prometheus.WriteRequest"),
        (snappy(v1_request([({"job": "x"}, [(T0, 1.0)])]).SerializeToString()), None, 400,
         "no __name__"),
        (snappy(v1_request([({"__name__": "x", "a": "\udcff"[:0] + "ok"}, [(T0, 1.0)])])
                .SerializeToString().replace(b"ok", b"\xff\xfe")), None, 400, "protobuf"),
        (snappy(_bad_v2_refs()), CONTENT_TYPE_V2, 400, "labels_refs"),
        (snappy(_bad_symbols()), CONTENT_TYPE_V2, 400, "empty string"),
    ],
)  # fmt: skip
def test_bad_bodies_are_clear_400s(
    body: bytes, content_type: str | None, status: int, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        RemoteWriteDecoder().decode(body, content_type=content_type)
    assert caught.value.status == status
    assert words in caught.value.message


def test_a_snappy_body_that_would_inflate_past_the_limit_is_refused_first() -> None:
    body = snappy(b"\0" * 2_000_000)
    with pytest.raises(DecodeError) as caught:
        RemoteWriteDecoder(max_body=1_000_000).decode(body, content_type=None)
    assert caught.value.status == 413
