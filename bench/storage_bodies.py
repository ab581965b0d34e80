"""The storage bench's data and request bodies, encoded before any clock starts.

Values are gauges: per series a random walk (steps of a normal with sd 0.5 around a base
between 10 and 90) rounded to two decimals, from a fixed seed, so both servers store the
same numbers run after run. Values that change by a constant step (bench/ingest.py's
pattern) compress to almost nothing in VictoriaMetrics (0.14 B/point) and say nothing
about real data on disk.
"""

from __future__ import annotations

import numpy as np
import orjson

from bench.common import PROJECT
from bench.peers import import_bodies

__all__ = ["gauges", "peer_bodies", "vigil_columnar", "vigil_points"]

MUTATION = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)


def gauges(series: int, instants: int, seed: int) -> list[list[float]]:
    """`series` rows of `instants` values each."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(10.0, 90.0, size=(series, 1))
    walk = np.cumsum(rng.normal(0.0, 0.5, size=(series, instants)), axis=1)
    rows: list[list[float]] = np.round(base + walk, 2).tolist()
    return rows


def vigil_points(
    name: str, series: list[str], stamps: list[int], values: list[list[float]], per: int
) -> list[bytes]:
    """createMetrics with one object per point, as bench/ingest.py sends them: each body
    holds the next `per` instants of every series (time-major)."""
    tags = [{"series": key} for key in series]
    bodies = []
    for first in range(0, len(stamps), per):
        points = [
            {"name": name, "value": values[s][i], "timestamp": stamps[i], "tags": tags[s]}
            for i in range(first, min(first + per, len(stamps)))
            for s in range(len(series))
        ]
        variables = {"project": PROJECT, "points": points}
        bodies.append(orjson.dumps({"query": MUTATION, "variables": variables}))
    return bodies


def vigil_columnar(
    name: str, series: list[str], stamps: list[int], values: list[list[float]], per: int
) -> list[bytes]:
    """Columnar createMetrics (one entry per series with arrays): each body holds the next
    `per` instants of every series."""
    bodies = []
    for first in range(0, len(stamps), per):
        entries = [
            {
                "name": name,
                "tags": {"series": key},
                "timestamps": stamps[first : first + per],
                "values": values[s][first : first + per],
            }
            for s, key in enumerate(series)
        ]
        variables = {"project": PROJECT, "points": entries}
        bodies.append(orjson.dumps({"query": MUTATION, "variables": variables}))
    return bodies


def peer_bodies(
    name: str, series: list[str], stamps: list[int], values: list[list[float]], per_request: int
) -> list[bytes]:
    """VictoriaMetrics `/api/v1/import` bodies of about `per_request` points."""
    by_series = {key: values[s] for s, key in enumerate(series)}
    return import_bodies(name, series, stamps, by_series, per_request)
