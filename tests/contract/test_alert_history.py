"""AlertStore contract: transition history, leases and durability, on every store."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from domain.alerting.model import (
    MINUTE_US,
    SECOND_US,
    AlertState,
    Reason,
    Transition,
)
from domain.alerting.ports import AlertStore
from tests.contract.alert_data import (  # noqa: F401
    ACKED,
    ODD_KEYS,
    alert,
    alerts_of,
    by_key,
    full_rule,
    transition,
)
from tests.contract.conftest import StoreFactory
from tests.contract.data import NOW_US

T0 = NOW_US


# -- transitions ----------------------------------------------------------------------------


async def test_transitions_come_back_newest_first_and_page_back(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))
    await alerts.save_alert(alert("a2"))
    pending = transition(10, AlertState.PENDING)
    firing = transition(10, AlertState.FIRING, frm=AlertState.PENDING)  # same microsecond
    early = transition(5, AlertState.FIRING, key=("h2",))
    late = transition(20, AlertState.OK, frm=AlertState.FIRING)
    acked = replace(
        transition(30, AlertState.ACKNOWLEDGED, frm=AlertState.FIRING),
        value=None,
        threshold=None,
        severity=None,
        notify=False,
        reason=Reason.ACKNOWLEDGED,
        by="bob",
        comment="on it",
    )
    await alerts.append_transitions("a1", [pending, firing])
    await alerts.append_transitions("a1", [early])
    await alerts.append_transitions("a2", [transition(15, AlertState.FIRING)])
    await alerts.append_transitions("a1", [late, acked])
    await alerts.append_transitions("a1", [])

    newest = [acked, late, firing, pending, early]
    assert await alerts.list_transitions("alpha", "a1") == newest
    assert await alerts.list_transitions("alpha", "a1", first=2) == newest[:2]
    assert await alerts.list_transitions("alpha", "a1", first=0) == []
    assert await alerts.list_transitions("alpha", "a1", before_us=T0 + 20) == newest[2:]
    assert await alerts.list_transitions("alpha", "a1", first=1, before_us=T0 + 20) == [firing]
    assert await alerts.list_transitions("alpha", "a1", before_us=T0 + 5) == []
    assert await alerts.list_transitions("alpha", "a2") == [transition(15, AlertState.FIRING)]


async def test_paging_walks_all_transitions_once(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))
    recorded = [transition(i, AlertState.FIRING, key=(f"h{i}",)) for i in range(25)]
    for start in range(0, 25, 7):
        await alerts.append_transitions("a1", recorded[start : start + 7])

    seen: list[Transition] = []
    before: int | None = None
    while page := await alerts.list_transitions("alpha", "a1", first=10, before_us=before):
        seen += page
        before = page[-1].at_us

    assert seen == recorded[::-1]


# -- leases ---------------------------------------------------------------------------------


async def test_a_lease_has_one_owner_until_it_expires(alerts: AlertStore) -> None:
    ttl = 10 * SECOND_US

    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False
    assert await alerts.acquire_lease("other", "bob", now_us=T0 + 1, ttl_us=ttl) is True
    # Renewal by the owner moves the expiry: bob is still refused after the first one.
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 5, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + ttl, ttl_us=ttl) is False
    # Expired (expiry <= now): taken over, and the old owner is refused.
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 5 + ttl, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 6 + ttl, ttl_us=ttl) is False


async def test_only_the_owner_releases_a_lease(alerts: AlertStore) -> None:
    ttl = MINUTE_US
    await alerts.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl)

    await alerts.release_lease("evaluator", "bob")
    await alerts.release_lease("missing", "ann")
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False

    await alerts.release_lease("evaluator", "ann")
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 2, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 3, ttl_us=ttl) is False


@pytest.mark.parametrize("held_before", [False, True], ids=["free", "expired"])
async def test_concurrent_acquires_give_the_lease_to_one(
    alerts: AlertStore, held_before: bool
) -> None:
    ttl = MINUTE_US
    now = T0 + 2 * ttl
    if held_before:
        assert await alerts.acquire_lease("evaluator", "old", now_us=T0, ttl_us=ttl)
    owners = [f"owner-{i}" for i in range(16)]

    answers = await asyncio.gather(
        *(alerts.acquire_lease("evaluator", o, now_us=now, ttl_us=ttl) for o in owners)
    )

    assert sum(answers) == 1
    winner = owners[answers.index(True)]
    assert await alerts.acquire_lease("evaluator", winner, now_us=now + 1, ttl_us=ttl) is True
    losers = [o for o in owners if o != winner] + ["old"]
    for loser in losers:
        assert await alerts.acquire_lease("evaluator", loser, now_us=now + 1, ttl_us=ttl) is False


async def test_renew_leases_extends_only_what_the_owner_still_holds(alerts: AlertStore) -> None:
    ttl = 10 * SECOND_US
    for name in ("a", "b"):
        assert await alerts.acquire_lease(name, "ann", now_us=T0, ttl_us=ttl)
    assert await alerts.acquire_lease("c", "bob", now_us=T0, ttl_us=ttl)
    # ann's "b" expired and bob took it; "a" expired too, but nobody took it.
    assert await alerts.acquire_lease("b", "bob", now_us=T0 + ttl, ttl_us=ttl)

    kept = await alerts.renew_leases(
        ["a", "b", "c", "missing"], "ann", now_us=T0 + ttl + 1, ttl_us=ttl
    )

    assert kept == {"a"}
    # "a" now runs until T0 + 2 ttl + 1: bob is refused until then.
    assert not await alerts.acquire_lease("a", "bob", now_us=T0 + 2 * ttl, ttl_us=ttl)
    assert await alerts.acquire_lease("a", "bob", now_us=T0 + 2 * ttl + 1, ttl_us=ttl)
    assert await alerts.lease_holders("b", now_us=T0 + ttl + 1) == {"b": "bob"}
    assert await alerts.renew_leases([], "ann", now_us=T0, ttl_us=ttl) == set()


async def test_lease_holders_lists_the_live_leases_under_a_prefix(alerts: AlertStore) -> None:
    ttl = 10 * SECOND_US
    await alerts.acquire_lease("shard/1", "ann", now_us=T0, ttl_us=ttl)
    await alerts.acquire_lease("shard/2", "bob", now_us=T0 + 5 * SECOND_US, ttl_us=ttl)
    await alerts.acquire_lease("member/ann", "ann", now_us=T0, ttl_us=ttl)
    await alerts.acquire_lease("shard.x", "eve", now_us=T0, ttl_us=ttl)  # "." is not a pattern

    assert await alerts.lease_holders("shard/", now_us=T0 + 1) == {
        "shard/1": "ann",
        "shard/2": "bob",
    }
    # Expired leases (expiry <= now) are not held by anyone.
    assert await alerts.lease_holders("shard/", now_us=T0 + ttl) == {"shard/2": "bob"}
    await alerts.release_lease("shard/2", "bob")
    assert await alerts.lease_holders("shard/", now_us=T0 + 1) == {"shard/1": "ann"}
    assert await alerts.lease_holders("nothing/", now_us=T0) == {}


# -- durability -----------------------------------------------------------------------------


async def test_everything_survives_a_restart(store_factory: StoreFactory, tmp_path: Path) -> None:
    rich = replace(alert("a1", rule=full_rule()), template="high-cpu")
    history = [transition(i, AlertState.FIRING, key=("web-1", "eu-west")) for i in range(3)]
    db = await store_factory(tmp_path)
    try:
        store = alerts_of(db)
        await store.save_alert(rich)
        await store.save_alert(alert("a2", "beta", enabled=False))
        await store.save_instances("a1", [ACKED])
        await store.append_transitions("a1", history)
        assert await store.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=MINUTE_US)
    finally:
        await db.close()

    db = await store_factory(tmp_path)
    try:
        store = alerts_of(db)
        assert await store.get_alert("alpha", "a1") == rich
        assert [a.id for a in await store.list_alerts("beta")] == ["a2"]
        assert await store.enabled_alerts() == [rich]
        assert await store.load_instances("a1") == [ACKED]
        assert await store.list_transitions("alpha", "a1") == history[::-1]
        assert not await store.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=MINUTE_US)
        assert await store.acquire_lease("evaluator", "ann", now_us=T0 + 1, ttl_us=MINUTE_US)
        # Recording order survives a restart: of two transitions of one microsecond, the
        # one recorded after the restart still comes first.
        later = transition(1, AlertState.OK, key=("web-1", "eu-west"))
        await store.append_transitions("a1", [later])
        assert await store.list_transitions("alpha", "a1") == [
            history[2],
            later,
            history[1],
            history[0],
        ]
        v2 = rich.changed(enabled=False, at_us=T0 + 9, by="bob")
        assert await store.save_alert(v2, expected_version=1) is True
        assert await store.get_alert("alpha", "a1") == v2
    finally:
        await db.close()
