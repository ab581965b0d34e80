"""Decode CPU per point of collector bodies: `python -m bench.collectors_decode`.

1,000 series x 1,000 points, sent as 200 requests of 5,000 points, in each wire format:
Prometheus remote-write 1.0 (one sample per series entry, as Prometheus sends), 2.0 (with
metadata) and InfluxDB line protocol (nanosecond timestamps). Each body is built before
timing; the figure is process CPU time of `decode` (snappy or gzip included) per point.
The message-by-message decoders run on a tenth of the requests, for comparison. Prints one
JSON object on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import cramjam
import orjson

from infra.collectors import LineProtocolDecoder, RemoteWriteDecoder
from infra.collectors.interning import SeriesInterner
from infra.collectors.prometheus import CONTENT_TYPE_V1, CONTENT_TYPE_V2
from infra.collectors.prometheus.generic import decode_v1, decode_v2
from infra.collectors.prometheus.messages import V1, V2

SERIES = 1_000
POINTS = 1_000
BATCH = 5_000
T0_MS = 1_700_000_000_000


def labels(i: int) -> list[tuple[str, str]]:
    return [
        ("__name__", f"node_metric_{i % 50}"),
        ("instance", f"host-{i % 20}:9100"),
        ("job", "node"),
        ("mode", f"m{i}"),
    ]


def batches() -> list[list[tuple[int, int, float]]]:
    """(series, timestamp ms, value) in time order, cut into requests of BATCH points."""
    flat = [(s, T0_MS + p * 15_000, s * 0.5 + p) for p in range(POINTS) for s in range(SERIES)]
    return [flat[i : i + BATCH] for i in range(0, len(flat), BATCH)]


def v1_body(batch: list[tuple[int, int, float]]) -> bytes:
    request = V1["WriteRequest"]()
    for s, t, v in batch:
        ts = request.timeseries.add()
        for name, value in labels(s):
            ts.labels.add(name=name, value=value)
        ts.samples.add(timestamp=t, value=v)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def v2_body(batch: list[tuple[int, int, float]]) -> bytes:
    request = V2["Request"]()
    symbols: dict[str, int] = {"": 0}
    for s, t, v in batch:
        ts = request.timeseries.add()
        for name, value in labels(s):
            ts.labels_refs.extend([symbols.setdefault(x, len(symbols)) for x in (name, value)])
        ts.samples.add(timestamp=t, value=v)
        ts.metadata.type = 2
        ts.metadata.help_ref = symbols.setdefault(f"Help of metric {s % 50}.", len(symbols))
    request.symbols.extend(symbols)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def lp_body(batch: list[tuple[int, int, float]]) -> bytes:
    lines = []
    for s, t, v in batch:
        (_, name), *tags = labels(s)
        tag_text = ",".join(f"{k}={x}" for k, x in tags)
        lines.append(f"{name},{tag_text} value={v} {t * 1_000_000}")
    return ("\n".join(lines) + "\n").encode()


def cpu_per_point(bodies: list[bytes], decode: Callable[[bytes], Any]) -> float:
    started = time.process_time()
    points = 0
    for body in bodies:
        points += len(decode(body))
    return round((time.process_time() - started) / points * 1e6, 3)


def run() -> dict[str, Any]:
    print("[bench] building bodies", file=sys.stderr, flush=True)
    parts = batches()
    v1 = [v1_body(b) for b in parts]
    v2 = [v2_body(b) for b in parts]
    lp = [lp_body(b) for b in parts]
    some = len(parts) // 10
    rw = RemoteWriteDecoder()
    line = LineProtocolDecoder()

    def unsnap(body: bytes) -> bytes:
        return bytes(cramjam.snappy.decompress_raw(body))

    interner = SeriesInterner()
    results = {
        "remote_write_1": cpu_per_point(
            v1, lambda b: rw.decode(b, content_type=CONTENT_TYPE_V1).points
        ),
        "remote_write_2": cpu_per_point(
            v2, lambda b: rw.decode(b, content_type=CONTENT_TYPE_V2).points
        ),
        "line_protocol": cpu_per_point(lp, lambda b: line.decode(b, now_us=0)),
        "remote_write_1_generic": cpu_per_point(
            v1[:some], lambda b: decode_v1(unsnap(b), interner).points
        ),
        "remote_write_2_generic": cpu_per_point(
            v2[:some], lambda b: decode_v2(unsnap(b), interner).points
        ),
        "line_protocol_general": cpu_per_point(
            [b"# force the general reader\n" + b for b in lp[:some]],
            lambda b: line.decode(b, now_us=0),
        ),
    }
    return {
        "benchmark": "collectors_decode",
        "unit": "us of CPU per point (decode only, snappy included)",
        "points": SERIES * POINTS,
        "points_per_request": BATCH,
        "body_bytes_per_point": {
            "remote_write_1": round(sum(map(len, v1)) / (SERIES * POINTS), 1),
            "remote_write_2": round(sum(map(len, v2)) / (SERIES * POINTS), 1),
            "line_protocol": round(sum(map(len, lp)) / (SERIES * POINTS), 1),
        },
        "us_per_point": results,
    }


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m bench.collectors_decode", description=__doc__
    ).parse_args(argv)
    sys.stdout.write(orjson.dumps(run()).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
