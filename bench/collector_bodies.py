"""Request bodies for the collectors bench, encoded before any clock starts."""

from __future__ import annotations

import struct

import cramjam
import orjson

from bench.common import PROJECT

__all__ = ["COLUMNAR", "columnar_bodies", "line_bodies", "remote_write_bodies"]

SERIES = 1_000
COLUMNAR = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)


def _varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _labels(name: str, series: int) -> list[tuple[str, str]]:
    return [("__name__", name), ("instance", f"host-{series % 50}"), ("job", "bench"),
            ("series", f"s{series}")]  # fmt: skip


def remote_write_bodies(
    name: str, series: range, instants: list[int], per_request: int
) -> list[bytes]:
    """Requests of `per_request` samples, time-major, encoded by hand (protobuf wire format:
    WriteRequest.timeseries = 1, TimeSeries.labels = 1 / samples = 2, Label.name = 1 / value
    = 2, Sample.value = 1 (double) / timestamp = 2 (int64))."""
    heads = [
        b"".join(
            _field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in _labels(name, s)
        )
        for s in series
    ]
    records = []
    for t in instants:
        for pos, s in enumerate(series):
            sample = b"\x09" + struct.pack("<d", s + t % 997 * 0.25) + b"\x10" + _varint(t)
            records.append(_field(1, heads[pos] + _field(2, sample)))
    return [
        bytes(cramjam.snappy.compress_raw(b"".join(records[i : i + per_request])))
        for i in range(0, len(records), per_request)
    ]


def line_bodies(name: str, series: range, instants: list[int], per_request: int) -> list[bytes]:
    keys = [f"{name},instance=host-{s % 50},job=bench,series=s{s} value=".encode() for s in series]
    lines = [
        keys[pos] + b"%r %d\n" % (s + t % 997 * 0.25, t * 1_000_000)
        for t in instants
        for pos, s in enumerate(series)
    ]
    return [b"".join(lines[i : i + per_request]) for i in range(0, len(lines), per_request)]


def columnar_bodies(name: str, instants: list[int], per_series: int) -> list[bytes]:
    """createMetrics with one series entry per series and `per_series` points in each."""
    bodies = []
    for i in range(0, len(instants), per_series):
        stamps = instants[i : i + per_series]
        entries = [
            {
                "name": name,
                "tags": {"instance": f"host-{s % 50}", "job": "bench", "series": f"s{s}"},
                "timestamps": stamps,
                "values": [s + t % 997 * 0.25 for t in stamps],
            }
            for s in range(SERIES)
        ]
        variables = {"project": PROJECT, "points": entries}
        bodies.append(orjson.dumps({"query": COLUMNAR, "variables": variables}))
    return bodies
