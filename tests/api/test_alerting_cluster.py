"""Several instances: two real apps sharing one store and the real Redis bus.

Each alert is evaluated by exactly one instance (the holder of its shard lease); points
sent to either instance reach it; a user's move sent to the other instance is carried out
by the owner; and when an instance dies, the other takes its alerts over once the leases
expire. The two apps run in one process because they share one embedded store (a DuckDB
file has one writer process); everything between them goes through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from domain.alerting import AlertState
from domain.alerting.events import AlertEvent
from infra.alerting import AlertCluster
from infra.alerting.leases import SHARDS, shard_of
from infra.config import Settings
from infra.stores.duckdb import DuckDBDatabase
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real
from tests.support import RunningVigil, WSClient, make_settings, serve, token, ws_client

LEASE_SECONDS = 1.5
ALERTS = 16
CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) { createAlert(project: $p, rule: $rule)
  { id } }"""
GET = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) {
  state history { from to by } } }"""
ACK = """mutation($p: String!, $id: ID!) {
  acknowledgeAlert(project: $p, alertId: $id, comment: "mine") { state } }"""
RESOLVE = """mutation($p: String!, $id: ID!) {
  resolveAlert(project: $p, alertId: $id, comment: "fixed") { state } }"""
MOVES = """subscription($p: String!) { alertAcknowledged(project: $p) { alertId by comment } }"""
TRIGGERED = """subscription($p: String!) { alertTriggered(project: $p) { alertId tags } }"""


@dataclass
class Cluster:
    project: str
    a: RunningVigil
    b: RunningVigil

    @property
    def auth(self) -> str:
        return token(**{self.project: "admin"})

    async def send(self, via: RunningVigil, *points: tuple[str, float]) -> None:
        raw = [{"name": "cpu", "value": v, "tags": {"host": h}} for h, v in points]
        await via.ok(CREATE_POINTS, {"p": self.project, "points": raw}, auth=self.auth)

    async def create(self, host: str) -> str:
        rule = {
            "name": f"cpu on {host}",
            "metric": "cpu",
            "threshold": 90,
            "aggregation": "LAST",
            "window": "5m",
            "matchers": [{"key": "host", "value": host}],
        }
        data = await self.a.ok(CREATE, {"p": self.project, "rule": rule}, auth=self.auth)
        alert_id: str = data["createAlert"]["id"]
        return alert_id

    async def get(self, via: RunningVigil, alert_id: str) -> dict[str, Any]:
        data = await via.ok(GET, {"p": self.project, "id": alert_id}, auth=self.auth)
        alert: dict[str, Any] = data["alert"]
        return alert


def cluster_of(vigil: RunningVigil) -> AlertCluster:
    engine = vigil.app.state.vigil.runtimes.alerting
    assert isinstance(engine, AlertCluster)
    return engine


async def until(check: Any, timeout: float, what: str) -> float:
    """Wait until `check()` is true; the seconds it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def open_duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "shared.duckdb"))


# The two apps share one store object: DuckDB, or MongoDB (emulated, and a real server
# when VIGIL_TEST_MONGO_URL is set), whose leases are what several processes would share.
@pytest.fixture(
    params=[open_duckdb, open_mongo_emulated, open_mongo_real],
    ids=["duckdb", "mongo-emulated", "mongo-real"],
)
async def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    database = await request.param(tmp_path)
    settings = make_settings(
        tmp_path,
        bus_url="redis://127.0.0.1:6379/0",
        alert_lease_seconds=LEASE_SECONDS,
        alert_tick_seconds=3600,  # points drive every evaluation here
    )
    try:
        async with (
            serve(named(settings, "a"), database=database) as a,
            serve(named(settings, "b"), database=database) as b,
        ):

            def shared() -> bool:
                held = [cluster_of(v).leases.held for v in (a, b)]
                return all(held) and sum(map(len, held)) == SHARDS

            await until(
                shared,
                timeout=10 * LEASE_SECONDS,
                what="the two instances share the shards",
            )
            yield Cluster(f"cluster-{uuid.uuid4().hex[:8]}", a, b)
    finally:
        await database.close()


def named(settings: Settings, name: str) -> Settings:
    return replace(settings, instance=f"{name}-{uuid.uuid4().hex[:6]}")


async def triggered(ws: WSClient, op: str, quiet: float = 1.0) -> list[str]:
    """The alert ids of every alertTriggered message until `quiet` seconds pass without one."""
    seen: list[str] = []
    with contextlib.suppress(TimeoutError):
        while True:
            message = await ws.next_for(op, timeout=quiet)
            assert message["type"] == "next", message
            seen.append(message["payload"]["data"]["alertTriggered"]["alertId"])
    return seen


async def test_each_alert_is_evaluated_once_whichever_instance_gets_the_points(
    cluster: Cluster,
) -> None:
    a, b = cluster_of(cluster.a), cluster_of(cluster.b)
    assert not a.leases.held & b.leases.held
    hosts = [f"h{i}" for i in range(ALERTS)]
    await cluster.send(cluster.a, *[(h, 10.0) for h in hosts])
    ids = {h: await cluster.create(h) for h in hosts}

    # Created through A, each alert runs on the holder of its shard (B hears of it over
    # Redis), and only there.
    def running_on_owner() -> bool:
        return all(
            [c for c in (a, b) if i in c.engine] == [a if a.leases.owns(i) else b]
            for i in ids.values()
        )

    await until(running_on_owner, timeout=5, what="each alert runs on its owner")
    assert any(i in a.engine for i in ids.values()) and any(i in b.engine for i in ids.values())

    async with (
        ws_client(cluster.a.ws_url, cluster.auth) as on_a,
        ws_client(cluster.b.ws_url, cluster.auth) as on_b,
    ):
        subs = [await ws.subscribe(TRIGGERED, {"p": cluster.project}) for ws in (on_a, on_b)]
        for via in (cluster.a, cluster.b):
            await via.listening(AlertEvent.channel_for(cluster.project))
        # Half the crossings through each instance: most reach their owner over Redis.
        await cluster.send(cluster.b, *[(h, 95.0) for h in hosts[::2]])
        await cluster.send(cluster.a, *[(h, 95.0) for h in hosts[1::2]])
        seen_a = await triggered(on_a, subs[0])
        seen_b = await triggered(on_b, subs[1])

    assert sorted(seen_a) == sorted(ids.values())  # every alert fired, and fired once
    assert sorted(seen_b) == sorted(ids.values())
    for alert_id in ids.values():
        alert = await cluster.get(cluster.b, alert_id)
        assert alert["state"] == "FIRING"
        assert [h["to"] for h in alert["history"]] == ["FIRING"]


async def test_a_move_sent_to_the_other_instance_is_made_by_the_owner(cluster: Cluster) -> None:
    a = cluster_of(cluster.a)
    await cluster.send(cluster.a, ("web", 10.0))
    alert_id = await cluster.create("web")
    owner, other = (cluster.a, cluster.b) if a.leases.owns(alert_id) else (cluster.b, cluster.a)
    await cluster.send(other, ("web", 95.0))

    def fired() -> bool:
        states = cluster_of(owner).instances(alert_id) or []
        return any(s.state is AlertState.FIRING for s in states)

    await until(fired, timeout=5, what="the owner fires")
    assert cluster_of(other).instances(alert_id) is None  # not evaluated there

    async with ws_client(other.ws_url, cluster.auth) as ws:
        sub = await ws.subscribe(MOVES, {"p": cluster.project})
        await other.listening(AlertEvent.channel_for(cluster.project))
        args = {"p": cluster.project, "id": alert_id}
        acked = await other.ok(ACK, args, auth=cluster.auth)
        assert acked["acknowledgeAlert"]["state"] == "ACKNOWLEDGED"
        # The owner publishes the move's event (its notification router hears it), once.
        event = (await ws.next_for(sub))["payload"]["data"]["alertAcknowledged"]
        assert (event["alertId"], event["by"], event["comment"]) == (alert_id, "alice", "mine")
        with pytest.raises(TimeoutError):
            await ws.next_for(sub, timeout=0.5)
        resolved = await other.ok(RESOLVE, args, auth=cluster.auth)
        assert resolved["resolveAlert"]["state"] == "RESOLVED"

    alert = await cluster.get(owner, alert_id)
    assert [h["to"] for h in alert["history"]] == ["RESOLVED", "ACKNOWLEDGED", "FIRING"]
    states = cluster_of(owner).instances(alert_id) or []
    assert [s.state for s in states] == [AlertState.RESOLVED]


async def test_a_dead_instance_hands_its_alerts_over_within_a_lease(cluster: Cluster) -> None:
    a, b = cluster_of(cluster.a), cluster_of(cluster.b)
    hosts = [f"h{i}" for i in range(ALERTS)]
    await cluster.send(cluster.b, *[(h, 10.0) for h in hosts])
    ids = {h: await cluster.create(h) for h in hosts}
    orphans = {h: i for h, i in ids.items() if a.leases.owns(i)}
    assert orphans, "A evaluates some alerts"

    await a.close(release=False)  # A dies: no release, its leases run out

    def taken_over() -> bool:
        return len(b.leases.held) == SHARDS and all(i in b.engine for i in orphans.values())

    # A's leases run out within a lease period, and B takes them at its next renewal (a
    # third of one); two more lease periods are the margin for a loaded machine.
    renewal = b.leases.interval_us / 1e6
    within = LEASE_SECONDS + renewal + 2 * LEASE_SECONDS
    await until(taken_over, timeout=within, what="B evaluates A's alerts")

    async with ws_client(cluster.b.ws_url, cluster.auth) as ws:
        sub = await ws.subscribe(TRIGGERED, {"p": cluster.project})
        await cluster.b.listening(AlertEvent.channel_for(cluster.project))
        await cluster.send(cluster.b, *[(h, 95.0) for h in orphans])
        seen = await triggered(ws, sub)
    assert sorted(seen) == sorted(orphans.values())
    assert {shard_of(i) for i in orphans.values()} <= b.leases.held
