"""What only the MongoDB rollup tiers have: collections filled by `$merge` on a unique
index, an advance published before it reads (so another instance's append marks what it
may miss), and a crashed advance finished by the next one.

Runs on the emulator and, with VIGIL_TEST_MONGO_URL, on a real server; the contract every
store passes is in the tier tests of h13-tiers (test_rollup_tiers*.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from domain.storage.rollups import RollupRow, rollup_of
from domain.storage.tiers import HOUR, MINUTE, Tier
from infra.stores.mongo import MongoDatabase
from infra.stores.mongo.rollups.pipeline import points_in, rollup_pipeline
from infra.stores.mongo.schema import ROLLUP_DIRTY, ROLLUP_STATE, rollup_collection
from tests.contract.conftest import StoreDatabase, StoreFactory, open_duckdb
from tests.contract.data import NOW_US, SECOND, Point, point_batch, sid_of
from tests.contract.faults import another_instance

PROJECT = "tiers"
START = NOW_US - 3 * HOUR.resolution_us  # on a whole hour
END = NOW_US
SLICE = 24 * HOUR.resolution_us


@pytest.fixture
def mongo(store_factory: StoreFactory, store_db: StoreDatabase) -> MongoDatabase:
    if store_factory is open_duckdb:
        pytest.skip("MongoDB only: DuckDB's tiers are tables rewritten in one transaction")
    assert isinstance(store_db, MongoDatabase)
    return store_db


def sample() -> list[Point]:
    """Three series over three hours: gauges around zero (negative, zero, positive values:
    every kind of sketch bin) and a counter with resets, in no particular order."""
    points = []
    for i in range(540):
        ts = START + (i * 7919 % 540) * 20 * SECOND + i % 3  # shuffled, one every 20 s
        host = str(i % 3)
        value = float((i * 37) % 23 - 11) if host != "2" else float(i % 50)  # resets at 0
        points.append(Point("load", {"host": host}, ts, value))
    return points


def expected(points: list[Point], tier: Tier) -> dict[tuple[int, int], RollupRow]:
    cells: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for p in points:
        key = (sid_of(PROJECT, p.name, p.tags), p.ts - p.ts % tier.resolution_us)
        cells.setdefault(key, []).append((p.ts, p.value))
    return {
        key: rollup_of(key[0], key[1], [t for t, _ in cell], [v for _, v in cell])
        for key, cell in cells.items()
    }


def assert_rows(rows: list[RollupRow], points: list[Point], tier: Tier) -> None:
    want = expected(points, tier)
    assert sorted((r.series_id, r.bucket_us) for r in rows) == sorted(want)
    for row in rows:
        ref = want[(row.series_id, row.bucket_us)]
        exact = ("count", "first", "first_us", "last", "last_us", "min", "max")
        assert [getattr(row, f) for f in exact] == [getattr(ref, f) for f in exact]
        assert (row.sketch_keys, row.sketch_counts) == (ref.sketch_keys, ref.sketch_counts)
        # Summed in another order than numpy's: equal to the last bits.
        assert row.sum == pytest.approx(ref.sum, rel=1e-12, abs=1e-12)
        assert row.increase == pytest.approx(ref.increase, rel=1e-12, abs=1e-12)


async def stored(mongo: MongoDatabase, tier: Tier) -> list[dict[str, Any]]:
    """The tier's documents without what differs between runs (`_id`, `run`)."""
    db = mongo.metrics._db
    docs = await db[rollup_collection(tier.name)].find({}, {"_id": 0, "run": 0}).to_list()
    return sorted(docs, key=lambda d: (d["p"], d["s"], d["b"]))


async def test_each_tier_has_a_unique_series_bucket_index(mongo: MongoDatabase) -> None:
    db = mongo.metrics._db
    for tier in (MINUTE, HOUR):
        indexes = await db[rollup_collection(tier.name)].index_information()
        unique = [i for i in indexes.values() if i.get("unique")]
        assert [list(i["key"]) for i in unique] == [[("p", 1), ("s", 1), ("b", 1)]]
    dirty = await db[ROLLUP_DIRTY].index_information()
    assert any(i.get("unique") for i in dirty.values())


async def test_a_merge_into_the_time_series_collection_is_refused(mongo: MongoDatabase) -> None:
    """Why tiers are ordinary collections: the server refuses `$merge` into points (the
    emulator keeps that rule), and `$merge` on fields no unique index covers."""
    await mongo.metrics.append(point_batch(PROJECT, sample()[:10]))
    points = mongo.metrics._db["points"]
    pipeline = rollup_pipeline(points_in(START, END), MINUTE.resolution_us, "points", ObjectId())
    with pytest.raises(OperationFailure):
        await (await points.aggregate(pipeline)).to_list()
    unindexed = rollup_pipeline(points_in(START, END), MINUTE.resolution_us, "other", ObjectId())
    with pytest.raises(OperationFailure):
        await (await points.aggregate(unindexed)).to_list()


async def test_rolling_up_twice_writes_the_same_rows(mongo: MongoDatabase) -> None:
    points = sample()
    await mongo.metrics.append(point_batch(PROJECT, points))
    rollups = mongo.rollups
    for tier in (MINUTE, HOUR):
        assert await rollups.advance(tier, END, slice_us=SLICE) == END
        first = await stored(mongo, tier)
        assert await rollups.roll_up(tier, START, END) == len(first)
        assert await rollups.roll_up(tier, START, END) == len(first)
        assert await stored(mongo, tier) == first
        assert_rows(await rollups.read_rollups(tier, PROJECT, START, END), points, tier)


async def test_an_advance_that_crashed_half_way_is_finished_by_the_next(
    mongo: MongoDatabase,
) -> None:
    """The advance published its target, `$merge`d the first half of the range, and died
    (a stale row of an earlier run lies in the second half). Readers still see the old
    watermark; the next advance finishes the published target first."""
    points = sample()
    await mongo.metrics.append(point_batch(PROJECT, points))
    rollups, db = mongo.rollups, mongo.metrics._db
    middle = START + HOUR.resolution_us + 17 * MINUTE.resolution_us
    await db[ROLLUP_STATE].update_one(
        {"_id": MINUTE.name}, {"$set": {"w": START, "to": END}}, upsert=True
    )
    half = rollup_pipeline(
        points_in(START, middle), MINUTE.resolution_us, rollup_collection("1m"), ObjectId()
    )
    await (await db["points"].aggregate(half)).to_list()
    ghost = {"p": PROJECT, "s": 1, "n": "gone", "b": middle + MINUTE.resolution_us}
    await db[rollup_collection("1m")].insert_one({**ghost, "run": ObjectId()})
    assert (await rollups.watermarks())["1m"] == START

    assert await rollups.advance(MINUTE, END + HOUR.resolution_us, slice_us=SLICE) == END
    assert (await rollups.watermarks())["1m"] == END
    assert_rows(await rollups.read_rollups(MINUTE, PROJECT, START, END), points, MINUTE)
    assert await db[ROLLUP_STATE].find_one({"_id": MINUTE.name, "to": {"$exists": True}}) is None


async def test_an_append_racing_another_instances_advance_marks_its_late_points(
    mongo: MongoDatabase, store_factory: StoreFactory, tmp_path: Path
) -> None:
    """This instance last saw no watermark; another one has published an advance to END
    and may already have read the points. The append finds the new watermark once its
    points are stored and marks their buckets before it answers."""
    other = await another_instance(store_factory, mongo, tmp_path)
    try:
        await other.metrics.append(point_batch(PROJECT, sample()))
        assert await other.rollups.advance(MINUTE, END, slice_us=SLICE) == END
        late = Point("load", {"host": "0"}, START + 90 * SECOND + 1, 123.0)
        assert mongo.rollups.marks.seen()["1m"] < END  # this instance knows nothing of it
        await mongo.metrics.append(point_batch(PROJECT, [late]))
        assert await other.rollups.dirty_count(MINUTE) == 1
        assert await other.rollups.refresh_dirty(MINUTE, 10) == 1
        assert await other.rollups.dirty_count(MINUTE) == 0
        rows = await other.rollups.read_rollups(MINUTE, PROJECT, START, END)
        assert_rows(rows, [*sample(), late], MINUTE)
    finally:
        await other.close()


async def test_marks_inside_an_unfinished_advance_wait_for_it(mongo: MongoDatabase) -> None:
    """A refresh leaves the marks of an advance under way to it: rewriting a bucket of
    that range would race with the advance's clean-up of rows it did not write."""
    points = sample()
    await mongo.metrics.append(point_batch(PROJECT, points))
    rollups, db = mongo.rollups, mongo.metrics._db
    await db[ROLLUP_STATE].update_one(
        {"_id": MINUTE.name}, {"$set": {"w": START, "to": END}}, upsert=True
    )
    late = Point("load", {"host": "1"}, START + 5 * MINUTE.resolution_us + 3, -7.0)
    await mongo.metrics.append(point_batch(PROJECT, [late]))
    assert await rollups.dirty_count(MINUTE) == 1  # marked: under the published target
    assert await rollups.refresh_dirty(MINUTE, 10) == 0  # but not refreshed yet
    assert await rollups.advance(MINUTE, END, slice_us=SLICE) == END
    assert await rollups.refresh_dirty(MINUTE, 10) == 1
    assert await rollups.dirty_count(MINUTE) == 0
    rows = await rollups.read_rollups(MINUTE, PROJECT, START, END)
    assert_rows(rows, [*points, late], MINUTE)
