"""ShardLeases: fair shares, handover on join, leave and death, over a real (in-memory) store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.ports import LeaseStore
from infra.alerting.leases import SHARDS, ShardLeases, shard_of
from infra.stores.duckdb import DuckDBDatabase

TTL = 15_000_000
T0 = 1_800_000_000_000_000


@pytest.fixture
async def store() -> AsyncIterator[LeaseStore]:
    database = await DuckDBDatabase.open(":memory:")
    try:
        yield database.leases
    finally:
        await database.close()


async def test_one_process_takes_every_shard(store: LeaseStore) -> None:
    alone = ShardLeases(store, "a", ttl_us=TTL)
    changes = await alone.round(T0)
    assert changes.gained == frozenset(range(SHARDS)) and len(alone.held) == SHARDS
    assert alone.owns("any-alert-id")
    assert not await alone.round(T0 + TTL // 3)  # a renewal changes nothing


async def test_a_joining_process_gets_half_after_the_holder_releases(store: LeaseStore) -> None:
    a, b = ShardLeases(store, "a", ttl_us=TTL), ShardLeases(store, "b", ttl_us=TTL)
    await a.round(T0)
    assert not (await b.round(T0 + 1)).gained  # every shard is taken: b waits

    given = await a.round(T0 + 2)  # a sees two members: it gives up half
    assert len(given.released) == SHARDS // 2 and len(a.held) == SHARDS // 2
    await a.release(given.released)  # after writing their states

    taken = await b.round(T0 + 3)
    assert taken.gained == given.released
    assert a.held | b.held == frozenset(range(SHARDS)) and not a.held & b.held


async def test_a_dead_process_shards_are_taken_when_its_leases_expire(
    store: LeaseStore,
) -> None:
    a, b = ShardLeases(store, "a", ttl_us=TTL), ShardLeases(store, "b", ttl_us=TTL)
    await a.round(T0)
    await b.round(T0)
    released = (await a.round(T0)).released
    await a.release(released)
    await b.round(T0)
    # a dies at T0: nothing of it is released, and its leases expire at T0 + TTL.
    assert not (await b.round(T0 + TTL - 1)).gained
    late = await b.round(T0 + TTL)
    assert late.gained == a.held and len(b.held) == SHARDS


async def test_leave_hands_over_at_once(store: LeaseStore) -> None:
    a, b = ShardLeases(store, "a", ttl_us=TTL), ShardLeases(store, "b", ttl_us=TTL)
    await a.round(T0)
    await b.round(T0)
    await a.leave()
    assert len((await b.round(T0 + 1)).gained) == SHARDS


async def test_a_stolen_shard_is_reported_lost(store: LeaseStore) -> None:
    a = ShardLeases(store, "a", ttl_us=TTL)
    await a.round(T0)
    alert_id = "alert-1"
    name = f"alerting/shard/{shard_of(alert_id)}"
    # a was paused past its lease; another process took that shard meanwhile.
    assert await store.acquire_lease(name, "z", now_us=T0 + TTL, ttl_us=TTL)
    changes = await a.round(T0 + TTL + 1)
    assert shard_of(alert_id) in changes.lost and not a.owns(alert_id)


async def test_failed_rounds_drop_every_shard_before_the_leases_may_expire(
    store: LeaseStore,
) -> None:
    a = ShardLeases(store, "a", ttl_us=TTL)
    await a.round(T0)
    assert a.expire(T0 + TTL // 3) == frozenset()  # one missed round: still safe
    lost = a.expire(T0 + TTL - TTL // 3)
    assert len(lost) == SHARDS and not a.held
