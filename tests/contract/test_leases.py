"""LeaseStore contract: one owner per lease until it expires, on every store."""

from __future__ import annotations

import asyncio

import pytest

from domain.alerting import MINUTE_US, SECOND_US
from domain.ports import LeaseStore
from tests.contract.data import NOW_US as T0


async def test_a_lease_has_one_owner_until_it_expires(leases: LeaseStore) -> None:
    ttl = 10 * SECOND_US

    assert await leases.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl) is True
    assert await leases.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False
    assert await leases.acquire_lease("other", "bob", now_us=T0 + 1, ttl_us=ttl) is True
    # Renewal by the owner moves the expiry: bob is still refused after the first one.
    assert await leases.acquire_lease("evaluator", "ann", now_us=T0 + 5, ttl_us=ttl) is True
    assert await leases.acquire_lease("evaluator", "bob", now_us=T0 + ttl, ttl_us=ttl) is False
    # Expired (expiry <= now): taken over, and the old owner is refused.
    assert await leases.acquire_lease("evaluator", "bob", now_us=T0 + 5 + ttl, ttl_us=ttl) is True
    assert await leases.acquire_lease("evaluator", "ann", now_us=T0 + 6 + ttl, ttl_us=ttl) is False


async def test_only_the_owner_releases_a_lease(leases: LeaseStore) -> None:
    ttl = MINUTE_US
    await leases.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl)

    await leases.release_lease("evaluator", "bob")
    await leases.release_lease("missing", "ann")
    assert await leases.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False

    await leases.release_lease("evaluator", "ann")
    assert await leases.acquire_lease("evaluator", "bob", now_us=T0 + 2, ttl_us=ttl) is True
    assert await leases.acquire_lease("evaluator", "ann", now_us=T0 + 3, ttl_us=ttl) is False


@pytest.mark.parametrize("held_before", [False, True], ids=["free", "expired"])
async def test_concurrent_acquires_give_the_lease_to_one(
    leases: LeaseStore, held_before: bool
) -> None:
    ttl = MINUTE_US
    now = T0 + 2 * ttl
    if held_before:
        assert await leases.acquire_lease("evaluator", "old", now_us=T0, ttl_us=ttl)
    owners = [f"owner-{i}" for i in range(16)]

    answers = await asyncio.gather(
        *(leases.acquire_lease("evaluator", o, now_us=now, ttl_us=ttl) for o in owners)
    )

    assert sum(answers) == 1
    winner = owners[answers.index(True)]
    assert await leases.acquire_lease("evaluator", winner, now_us=now + 1, ttl_us=ttl) is True
    losers = [o for o in owners if o != winner] + ["old"]
    for loser in losers:
        assert await leases.acquire_lease("evaluator", loser, now_us=now + 1, ttl_us=ttl) is False


async def test_renew_leases_extends_only_what_the_owner_still_holds(leases: LeaseStore) -> None:
    ttl = 10 * SECOND_US
    for name in ("a", "b"):
        assert await leases.acquire_lease(name, "ann", now_us=T0, ttl_us=ttl)
    assert await leases.acquire_lease("c", "bob", now_us=T0, ttl_us=ttl)
    # ann's "b" expired and bob took it; "a" expired too, but nobody took it.
    assert await leases.acquire_lease("b", "bob", now_us=T0 + ttl, ttl_us=ttl)

    kept = await leases.renew_leases(
        ["a", "b", "c", "missing"], "ann", now_us=T0 + ttl + 1, ttl_us=ttl
    )

    assert kept == {"a"}
    # "a" now runs until T0 + 2 ttl + 1: bob is refused until then.
    assert not await leases.acquire_lease("a", "bob", now_us=T0 + 2 * ttl, ttl_us=ttl)
    assert await leases.acquire_lease("a", "bob", now_us=T0 + 2 * ttl + 1, ttl_us=ttl)
    assert await leases.lease_holders("b", now_us=T0 + ttl + 1) == {"b": "bob"}
    assert await leases.renew_leases([], "ann", now_us=T0, ttl_us=ttl) == set()


async def test_lease_holders_lists_the_live_leases_under_a_prefix(leases: LeaseStore) -> None:
    ttl = 10 * SECOND_US
    await leases.acquire_lease("shard/1", "ann", now_us=T0, ttl_us=ttl)
    await leases.acquire_lease("shard/2", "bob", now_us=T0 + 5 * SECOND_US, ttl_us=ttl)
    await leases.acquire_lease("member/ann", "ann", now_us=T0, ttl_us=ttl)
    await leases.acquire_lease("shard.x", "eve", now_us=T0, ttl_us=ttl)  # "." is not a pattern

    assert await leases.lease_holders("shard/", now_us=T0 + 1) == {
        "shard/1": "ann",
        "shard/2": "bob",
    }
    # Expired leases (expiry <= now) are not held by anyone.
    assert await leases.lease_holders("shard/", now_us=T0 + ttl) == {"shard/2": "bob"}
    await leases.release_lease("shard/2", "bob")
    assert await leases.lease_holders("shard/", now_us=T0 + 1) == {"shard/1": "ann"}
    assert await leases.lease_holders("nothing/", now_us=T0) == {}
