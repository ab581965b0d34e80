"""The alert cluster's less travelled paths, on the two-app harness of
test_alerting_cluster.py (one shared store, the real Redis bus): a process whose lease
renewals fail gives its shards up and the other takes them; when it comes back, the other
releases shards with firing alerts to it and their state moves with them; a deletion sent
to the instance that does not evaluate the alert is carried out by the one that does; a
move while an alert has no owner is refused as UNAVAILABLE and changes nothing."""

from __future__ import annotations

from typing import Any

from domain.ports import LeaseStore
from infra.alerting.leases import SHARDS
from tests.api.test_alerting_cluster import (  # the two-instance fixture
    ACK,
    LEASE_SECONDS,
    TRIGGERED,
    Cluster,
    cluster,
    cluster_of,
    triggered,
    until,
)
from tests.support import ws_client

__all__ = ["cluster"]

HOSTS = [f"h{i}" for i in range(12)]
DELETE = """mutation($p: String!, $id: ID!) { deleteAlert(project: $p, alertId: $id) }"""
STATE = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) { state } }"""


class Unreachable:
    """A lease store that refuses every call while `down`: the store as one process sees it
    through a network partition. Everything else of that process keeps working."""

    def __init__(self, store: LeaseStore) -> None:
        self.store = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ConnectionError("lease store unreachable (test partition)")
            return await method(*args, **kwargs)

        return call


async def test_failed_renewals_give_the_shards_up_and_a_return_takes_firing_alerts_back(
    cluster: Cluster,
) -> None:
    a, b = cluster_of(cluster.a), cluster_of(cluster.b)
    partition = Unreachable(a.leases._store)
    a.leases._store = partition
    await cluster.send(cluster.a, *[(h, 10.0) for h in HOSTS])
    ids = {h: await cluster.create(h) for h in HOSTS}
    on_a = {h: i for h, i in ids.items() if a.leases.owns(i)}
    assert on_a and len(on_a) < len(ids), "each instance evaluates some alerts"
    await until(
        lambda: all(i in a.engine for i in on_a.values()), timeout=5, what="A runs its alerts"
    )

    partition.down = True
    # Renewals fail: within a lease period A drops every alert (it cannot know whether its
    # leases still hold), and once they have run out B takes every shard.
    bound = 2 * LEASE_SECONDS + 1.0  # a lease, a round on each side, and a margin
    await until(lambda: not a.leases.held and not a.engine.rules, timeout=bound, what="A gives up")
    await until(lambda: len(b.leases.held) == SHARDS, timeout=bound, what="B takes every shard")
    await until(
        lambda: all(i in b.engine for i in ids.values()), timeout=5, what="B runs every alert"
    )

    async with ws_client(cluster.b.ws_url, cluster.auth) as ws:
        sub = await ws.subscribe(TRIGGERED, {"p": cluster.project})
        await cluster.send(cluster.a, *[(h, 95.0) for h in HOSTS])  # through A, over Redis
        seen = await triggered(ws, sub)
    assert sorted(seen) == sorted(ids.values())  # every alert fired once, on B

    # A is back: B releases about half the shards to it, saving their alerts' states first.
    partition.down = False
    await until(
        lambda: a.leases.held and len(a.leases.held) + len(b.leases.held) == SHARDS,
        timeout=bound,
        what="A takes its share again",
    )
    moved = [i for i in ids.values() if a.leases.owns(i)]
    assert moved, "some firing alerts moved back to A"
    await until(lambda: all(i in a.engine for i in moved), timeout=5, what="A runs them")
    for alert_id in moved:
        states = cluster_of(cluster.a).instances(alert_id) or []
        assert [s.state.value for s in states] == ["firing"]  # still firing, not new
        assert alert_id not in b.engine
    async with ws_client(cluster.a.ws_url, cluster.auth) as ws:
        sub = await ws.subscribe(TRIGGERED, {"p": cluster.project})
        await cluster.send(cluster.b, *[(h, 96.0) for h in HOSTS])
        assert await triggered(ws, sub) == []  # a handover fires nothing again


async def test_a_deletion_sent_to_the_other_instance_is_carried_out_by_the_owner(
    cluster: Cluster,
) -> None:
    a = cluster_of(cluster.a)
    await cluster.send(cluster.a, ("web", 10.0))
    alert_id = await cluster.create("web")
    owner, other = (cluster.a, cluster.b) if a.leases.owns(alert_id) else (cluster.b, cluster.a)
    await until(lambda: alert_id in cluster_of(owner).engine, timeout=5, what="the owner runs it")

    deleted = await other.ok(DELETE, {"p": cluster.project, "id": alert_id}, auth=cluster.auth)
    assert deleted["deleteAlert"] is True
    await until(
        lambda: alert_id not in cluster_of(owner).engine, timeout=5, what="the owner drops it"
    )
    async with ws_client(owner.ws_url, cluster.auth) as ws:
        sub = await ws.subscribe(TRIGGERED, {"p": cluster.project})
        await cluster.send(other, ("web", 95.0))
        assert await triggered(ws, sub) == []  # a deleted alert never fires
    for via in (cluster.a, cluster.b):
        gone = await via.gql(STATE, {"p": cluster.project, "id": alert_id}, auth=cluster.auth)
        assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_move_during_a_handover_is_refused_as_unavailable_then_made_after_it(
    cluster: Cluster,
) -> None:
    a, b = cluster_of(cluster.a), cluster_of(cluster.b)
    await cluster.send(cluster.b, *[(h, 10.0) for h in HOSTS])
    ids = [await cluster.create(h) for h in HOSTS]
    alert_id = next(i for i in ids if a.leases.owns(i))
    host = HOSTS[ids.index(alert_id)]
    await until(lambda: alert_id in a.engine, timeout=5, what="A runs it")
    await cluster.send(cluster.b, (host, 95.0))
    await until(
        lambda: [s.state.value for s in a.instances(alert_id) or []] == ["firing"],
        timeout=5,
        what="it fires on A",
    )

    await a.close(release=False)  # A dies; until its leases run out the alert has no owner
    args = {"p": cluster.project, "id": alert_id}
    refused = await cluster.b.gql(ACK, args, auth=cluster.auth)
    assert refused["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert (await cluster.get(cluster.b, alert_id))["state"] == "FIRING"  # nothing changed

    await until(lambda: alert_id in b.engine, timeout=3 * LEASE_SECONDS, what="B takes it over")
    acked = await cluster.b.ok(ACK, args, auth=cluster.auth)
    assert acked["acknowledgeAlert"]["state"] == "ACKNOWLEDGED"
