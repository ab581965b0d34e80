"""The storage bench's two query clients (Vigil's `/graphql`, VictoriaMetrics's Prometheus
API) and the alternating measurement of a chart query on both.

A query's time runs from sending the request until its whole answer is received: what the
server costs a client. Decoding the JSON is timed apart (`decode_ms`): it depends on the
client, and the Prometheus format (a [time, "value"] pair per point) costs a Python client
several times Vigil's dense arrays on large answers (1.2 s for the peer's 17 MB answer of
720,000 values with orjson here).
"""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import orjson

from bench.common import PROJECT, median
from bench.storage_cases import SERIES_QUERY, Answer, Case, compare, from_victoria, from_vigil

__all__ = ["PeerClient", "VigilClient", "measure"]

RAW = (None, "raw", "RAW", 0, "0", "0s")  # what `resolution` may say for raw points
NO_FIELD = "Cannot query field 'resolution'"  # graphql-core's words for a field it lacks


class VigilClient:
    """`metricSeries` over HTTP; a run's time covers sending, answering and decoding.

    It asks for `MetricSeries.resolution` (the tier that served the answer) while the
    schema has the field, and stops asking once the server says it has none."""

    def __init__(self, url: str, auth: str) -> None:
        self.url = url
        self.client = httpx.Client(
            headers={"authorization": f"Bearer {auth}", "content-type": "application/json"},
            timeout=120.0,
        )
        self.resolution_field = True
        self._bodies: dict[tuple[str, bool], bytes] = {}

    def _body(self, case: Case) -> bytes:
        key = case.key, self.resolution_field
        if key not in self._bodies:
            query = SERIES_QUERY % ("\n    resolution" if self.resolution_field else "")
            variables = case.vigil_variables(PROJECT)
            self._bodies[key] = orjson.dumps({"query": query, "variables": variables})
        return self._bodies[key]

    def once(self, case: Case) -> tuple[float, dict[str, Any]]:
        """Milliseconds until the whole answer is received, and `metricSeries`'s answer."""
        body = self._body(case)
        started = time.perf_counter()
        response = self.client.post(self.url, content=body)
        ms = (time.perf_counter() - started) * 1000
        answer = orjson.loads(response.content)
        decode_ms = (time.perf_counter() - started) * 1000 - ms
        errors = answer.get("errors") or []
        if self.resolution_field and any(NO_FIELD in str(e.get("message")) for e in errors):
            self.resolution_field = False  # this server's schema has no such field yet
            return self.once(case)
        if response.status_code != 200 or errors:
            raise RuntimeError(f"metricSeries {case.key} failed: {response.text[:500]}")
        data: dict[str, Any] = answer["data"]["metricSeries"]
        data["_bytes"], data["_decode_ms"] = len(response.content), decode_ms
        return ms, data

    def answer(self, case: Case, data: dict[str, Any]) -> Answer:
        return from_vigil(case, data)

    def close(self) -> None:
        self.client.close()


class PeerClient:
    """The equivalent MetricsQL through VictoriaMetrics's Prometheus query API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=120.0)

    def once(self, case: Case) -> tuple[float, dict[str, Any]]:
        path, params = case.victoria_request()
        started = time.perf_counter()
        response = self.client.get(self.url + path, params=params)
        ms = (time.perf_counter() - started) * 1000
        answer: dict[str, Any] = orjson.loads(response.content)
        decode_ms = (time.perf_counter() - started) * 1000 - ms
        if response.status_code != 200 or answer.get("status") != "success":
            raise RuntimeError(f"VictoriaMetrics {case.key} failed: {response.text[:500]}")
        answer["_bytes"], answer["_decode_ms"] = len(response.content), decode_ms
        return ms, answer

    def answer(self, case: Case, data: dict[str, Any]) -> Answer:
        return from_victoria(case, data)

    def close(self) -> None:
        self.client.close()


def resolution(data: dict[str, Any]) -> str:
    """What served a Vigil answer: its `resolution`, "raw" when it says raw points or has no
    such field."""
    value = data.get("resolution")
    return "raw" if value in RAW else str(value)


def _checksum(answer: Answer) -> tuple[int, float]:
    return len(answer), math.fsum(answer.values())


def _same(a: tuple[int, float], b: tuple[int, float]) -> bool:
    """The same count, and sums equal but for rounding: an average over many points is
    summed in another order run by run by a parallel engine."""
    return a[0] == b[0] and math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=1e-9)


def measure(
    case: Case,
    vigil: VigilClient,
    peer: PeerClient | None,
    *,
    warmup: int,
    runs: int,
) -> dict[str, Any]:
    """Warm-up, then Vigil and the peer in turn, run by run, so both meet the same (drifting)
    machine; medians. The warm-up answers are compared value by value; every timed answer
    must give the same count and sum as its side's warm-up answer (`unstable_runs`)."""
    sides: list[tuple[str, VigilClient | PeerClient]] = [("vigil", vigil)]
    if peer is not None:
        sides.append(("victoria_metrics", peer))
    first: dict[str, Answer] = {}
    last_data: dict[str, dict[str, Any]] = {}
    for _ in range(warmup):
        for name, client in sides:
            _, last_data[name] = client.once(case)
    for name, client in sides:
        first[name] = client.answer(case, last_data[name])
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    decode: dict[str, list[float]] = {name: [] for name, _ in sides}
    unstable = 0
    for _ in range(runs):
        for name, client in sides:
            ms, data = client.once(case)
            times[name].append(ms)
            decode[name].append(data["_decode_ms"])
            unstable += not _same(_checksum(client.answer(case, data)), _checksum(first[name]))
    out: dict[str, Any] = {
        "label": case.label,
        "buckets": case.buckets,
        "vigil_ms": round(median(times["vigil"]), 2),
        "vigil_runs_ms": [round(t, 2) for t in times["vigil"]],
        "vigil_resolution": resolution(last_data["vigil"]),
        "vigil_lines": len(last_data["vigil"]["series"]),
        "vigil_response_kb": round(last_data["vigil"]["_bytes"] / 1024, 1),
        "vigil_decode_ms": round(median(decode["vigil"]), 2),
        "unstable_runs": unstable,
    }
    if peer is not None:
        out |= {
            "victoria_metrics_ms": round(median(times["victoria_metrics"]), 2),
            "victoria_metrics_runs_ms": [round(t, 2) for t in times["victoria_metrics"]],
            "victoria_metrics_response_kb": round(
                last_data["victoria_metrics"]["_bytes"] / 1024, 1
            ),
            "victoria_metrics_decode_ms": round(median(decode["victoria_metrics"]), 2),
            "metricsql": case.metricsql(),
            "answers": compare(first["vigil"], first["victoria_metrics"]),
        }
    return out
