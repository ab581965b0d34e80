"""Anomaly detection on two real apps sharing one store and the real Redis bus: every
detector runs once, in the instance holding its metric's shard, whichever instance gets
the points; each anomaly is published once; an ANOMALY rule runs beside its detectors."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from domain.anomaly.model import placement_of
from tests.api.anomaly_support import CONFIGURE, history, point
from tests.api.test_alerting_cluster import (  # the two-instance fixture
    CREATE,
    CREATE_POINTS,
    Cluster,
    cluster,
    cluster_of,
    until,
)
from tests.support import RunningVigil, WSClient, ws_client

__all__ = ["cluster"]

METRICS = 8
DETECTED = """subscription($p: String!) { anomalyDetected(project: $p) { metric value } }"""


async def _send(c: Cluster, via: RunningVigil, points: list[dict[str, Any]]) -> None:
    await via.ok(CREATE_POINTS, {"p": c.project, "points": points}, auth=c.auth)


async def _warmed(c: Cluster) -> None:
    for vigil in (c.a, c.b):
        await vigil.app.state.vigil.runtimes.detectors.warmed()


def _detectors_here(vigil: RunningVigil, metric: str) -> int:
    """The detectors of `metric` in this instance (a rule covering it makes none yet)."""
    bank = vigil.app.state.vigil.runtimes.detectors
    return sum(
        len(m.slots)
        for by_metric in bank._by_project.values()
        for name, m in by_metric.items()
        if name == metric
    )


def _metrics_here(vigil: RunningVigil) -> set[str]:
    bank = vigil.app.state.vigil.runtimes.detectors
    return {name for by_metric in bank._by_project.values() for name in by_metric}


async def _detected(ws: WSClient, op: str, quiet: float = 1.0) -> list[tuple[str, float]]:
    seen: list[tuple[str, float]] = []
    with contextlib.suppress(TimeoutError):
        while True:
            message = await ws.next_for(op, timeout=quiet)
            got = message["payload"]["data"]["anomalyDetected"]
            seen.append((got["metric"], got["value"]))
    return seen


async def test_each_series_is_scored_once_by_the_owner_of_its_metric(cluster: Cluster) -> None:
    c = cluster
    a, b = cluster_of(c.a), cluster_of(c.b)
    names = [f"m{i}" for i in range(METRICS)]
    now = time.time()
    for n, name in enumerate(names):
        await _send(c, c.a, history(name, {"host": "h"}, points=200, end_s=now - 20, seed=n))
    for name in names:  # configured through A: the owner of each metric's shard runs it
        await c.a.ok(CONFIGURE, {"p": c.project, "i": {"metric": name}}, auth=c.auth)
    # Half the points through each instance: most reach their owner over Redis.
    for n, name in enumerate(names):
        await _send(c, (c.a, c.b)[n % 2], [point(name, 100.0, {"host": "h"}, now - 10)])

    def placed() -> bool:
        return all(
            [v for v in (c.a, c.b) if name in _metrics_here(v)]
            == [c.a if a.leases.owns(placement_of(c.project, name)) else c.b]
            for name in names
        )

    await until(placed, timeout=5, what="each metric's detectors run on its owner only")
    assert _metrics_here(c.a) and _metrics_here(c.b)
    await _warmed(c)

    async with ws_client(c.a.ws_url, c.auth) as on_a, ws_client(c.b.ws_url, c.auth) as on_b:
        subs = [await ws.subscribe(DETECTED, {"p": c.project}) for ws in (on_a, on_b)]
        for n, name in enumerate(names):
            await _send(c, (c.b, c.a)[n % 2], [point(name, 200.0 + n, {"host": "h"}, now)])
        seen_a = await _detected(on_a, subs[0])
        seen_b = await _detected(on_b, subs[1])
    expected = sorted((name, 200.0 + n) for n, name in enumerate(names))
    assert sorted(seen_a) == expected  # every spike scored, and published once
    assert sorted(seen_b) == expected
    del b


async def test_an_anomaly_rule_runs_beside_its_metrics_detectors(cluster: Cluster) -> None:
    c = cluster
    now = time.time()
    await _send(c, c.b, history("lat", {"host": "h"}, points=200, end_s=now - 20))
    rule = {
        "name": "lat anomalous",
        "metric": "lat",
        "kind": "ANOMALY",
        "aggregation": "MAX",
        "condition": "GE",
        "threshold": 1,
        "groupBy": ["host"],
    }
    made = await c.a.ok(CREATE, {"p": c.project, "rule": rule}, auth=c.auth)
    alert_id = made["createAlert"]["id"]
    owner = c.a if cluster_of(c.a).leases.owns(placement_of(c.project, "lat")) else c.b
    other = c.b if owner is c.a else c.a
    await until(
        lambda: alert_id in cluster_of(owner).engine and alert_id not in cluster_of(other).engine,
        timeout=5,
        what="the rule runs on the owner of its metric",
    )
    await _send(c, other, [point("lat", 100.0, {"host": "h"}, now - 10)])
    # The point reaches the owner over Redis; until then the rule's metric has no detector
    # and `_warmed` has nothing to wait for (a spike sent then met a warming detector).
    await until(lambda: _detectors_here(owner, "lat") > 0, timeout=5, what="its detector appears")
    await _warmed(c)
    await _send(c, other, [point("lat", 190.0, {"host": "h"}, now)])

    def fired() -> bool:
        states = cluster_of(owner).instances(alert_id) or []
        return [s.state.value for s in states] == ["firing"]

    # Generous: one hop over Redis and an evaluation; seen to take over 5 s once on a loaded CI run.
    await until(fired, timeout=15, what="the rule fires on its owner")
    assert "lat" not in _metrics_here(other)
