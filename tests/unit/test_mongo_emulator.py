"""The MongoDB emulator's own shortcuts answer as mongomock-ng does: the leading `$match`
run on its own (its ranges tried first, as an index would) selects the same documents as
the whole filter, whatever the types; cursors read linearly return what iterating does;
and an operation runs off the event loop, which stays free meanwhile."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta
from typing import Any

import mongomock_ng
import pytest
from pymongo.errors import OperationFailure

from tests.contract.mongo_emulator import EmulatedClient
from tests.contract.mongo_shortcuts import aggregate, drain

T0 = datetime(2026, 12, 1)


@pytest.fixture
def collection() -> Any:
    c = mongomock_ng.MongoClient()["d"]["c"]
    values: list[Any] = [5, 5.5, 7, True, "7", None, T0, T0 + timedelta(hours=1), [6], {"x": 1}]
    docs: list[dict[str, Any]] = [
        {"us": value, "t": T0 + timedelta(minutes=i), "m": {"s": i % 3}}
        for i, value in enumerate(values)
    ]
    docs.append({"t": T0, "m": {"s": 0}})  # no `us` at all
    c.insert_many(docs)
    return c


@pytest.mark.parametrize(
    "match",
    [
        {"us": {"$gte": 5, "$lt": 7}},
        {"us": {"$gt": 5}},
        {"us": {"$lte": 5.5}, "m.s": {"$in": [0, 1]}},
        {"us": {"$gte": T0, "$lt": T0 + timedelta(minutes=30)}},
        {"t": {"$gte": T0 + timedelta(minutes=2), "$lte": T0 + timedelta(minutes=6)}},
        {"us": {"$gte": 0}, "t": {"$lt": T0 + timedelta(minutes=5)}},
        {"us": 7},
        {"$or": [{"us": {"$lt": 6}}, {"m.s": 2}]},
        {"us": {"$nin": [5, 7]}, "m.s": {"$ne": 1}},
        {"$nor": [{"us": 5}, {"m.s": 1}]},
        # Many clauses: only those one field lets hold are looked at (a guard).
        {"$or": [{"m.s": i % 3, "us": {"$gte": i, "$lt": i + 1}} for i in range(10)]},
        {"$nor": [{"m.s": i % 3, "t": T0 + timedelta(minutes=i)} for i in range(10)]},
        {"$or": [{"us": {"$in": [i, str(i)]}, "m.s": {"$gte": 0}} for i in range(9)]},
        {},
    ],
)
def test_a_leading_match_selects_what_mongomock_selects(
    collection: Any, match: dict[str, Any]
) -> None:
    pipeline = [{"$match": match}, {"$project": {"_id": 0, "us": 1, "t": 1}}]
    expected = list(collection.aggregate(pipeline))
    assert list(aggregate(collection, pipeline)) == expected


def test_a_pipeline_without_a_leading_match_is_unchanged(collection: Any) -> None:
    pipeline: list[dict[str, Any]] = [{"$group": {"_id": "$m.s", "n": {"$sum": 1}}}]
    got = sorted(aggregate(collection, pipeline), key=lambda d: d["_id"])
    assert got == sorted(collection.aggregate(pipeline), key=lambda d: d["_id"])


@pytest.mark.parametrize(
    "key",
    [
        {"s": "$m.s"},
        {"s": "$m.s", "b": {"$subtract": ["$us", {"$mod": ["$us", 2]}]}},
        {"s": "$m.s", "missing": "$nothing"},
        "$m.s",
    ],
)
def test_a_group_groups_as_mongomock_groups(collection: Any, key: Any) -> None:
    from mongomock_ng import aggregate as mongomock_aggregate

    every = drain(collection.find())
    numbers = [d for d in every if type(d.get("us")) in (int, float)]
    options = {"_id": key, "n": {"$sum": 1}, "all": {"$push": "$us"}}
    fast = mongomock_aggregate._PIPELINE_HANDLERS["$group"]
    slow = mongomock_aggregate._handle_group_stage
    assert fast is not slow
    computed = isinstance(key, dict) and "b" in key  # $mod takes numbers only
    for docs in (numbers,) if computed else (numbers, every):
        got = fast(docs, None, options, None)
        want = slow(docs, None, options, None)
        assert sorted(map(repr, got)) == sorted(map(repr, want))


async def test_a_merge_keeps_the_servers_rules() -> None:
    db = EmulatedClient()["d"]
    await db["src"].insert_many([{"k": i % 3, "v": i} for i in range(6)])
    await db["dst"].create_index([("k", 1)], unique=True)
    await db["dst"].insert_one({"k": 0, "old": True, "v": -1})
    group = {"$group": {"_id": "$k", "v": {"$sum": "$v"}}}
    rename = {"$project": {"_id": 0, "k": "$_id", "v": 1}}

    def into(**spec: Any) -> list[dict[str, Any]]:
        return [group, rename, {"$merge": {"into": "dst", "on": "k", **spec}}]

    cursor = await db["src"].aggregate(into(whenMatched="merge"))
    assert await cursor.to_list() == []  # a $merge answers nothing
    docs = {d["k"]: d for d in await db["dst"].find({}, {"_id": 0}).to_list()}
    assert docs == {0: {"k": 0, "v": 3, "old": True}, 1: {"k": 1, "v": 5}, 2: {"k": 2, "v": 7}}
    await db["src"].aggregate(into(whenMatched="replace"))
    docs = {d["k"]: d for d in await db["dst"].find({}, {"_id": 0}).to_list()}
    assert docs[0] == {"k": 0, "v": 3}  # replaced: `old` is gone
    assert await db["dst"].count_documents({}) == 3
    refused = [
        into(whenMatched="fail"),  # a match exists
        [group, {"$merge": {"into": "dst", "on": "k"}}],  # `k` missing from the documents
        [group, rename, {"$merge": {"into": "dst", "on": "v"}}],  # no unique index on `v`
        [{"$merge": {"into": "dst", "on": "k"}}, group],  # not the last stage
    ]
    for pipeline in refused:
        with pytest.raises(OperationFailure):
            await db["src"].aggregate(pipeline)


def test_a_cursor_drained_at_once_is_the_cursor_iterated(collection: Any) -> None:
    def cursor() -> Any:
        return collection.find({"m.s": {"$in": [0, 2]}}).sort("t", -1).skip(1).limit(3)

    assert drain(cursor()) == list(cursor())
    assert drain(iter([{"a": 1}])) == [{"a": 1}]


async def test_an_operation_runs_off_the_event_loop() -> None:
    client = EmulatedClient()
    points = client["vigil"]["points"]
    ran_on: list[str] = []
    release = threading.Event()

    def slow(document: dict[str, Any]) -> None:
        ran_on.append(threading.current_thread().name)
        release.wait(10)
        client._client["vigil"]["points"].insert_one(document)

    operation = asyncio.create_task(client._server.run(slow, {"a": 1}))
    ticks = 0
    while not ran_on:  # the loop goes on while the operation waits in its thread
        ticks += 1
        await asyncio.sleep(0.01)
    assert ticks > 0 and ran_on[0].startswith("mongo-emulator")
    assert not operation.done()
    release.set()
    await operation
    assert await points.count_documents({}) == 1


async def test_bulk_upserts_on_a_unique_index_write_what_mongomock_writes() -> None:
    from pymongo import UpdateOne

    def requests() -> list[UpdateOne]:
        return [
            UpdateOne(
                {"t": "1m", "b": i % 7}, {"$inc": {"g": 1}, "$set": {"n": f"x{i}"}}, upsert=True
            )
            for i in range(20)
        ]

    fast, slow = EmulatedClient()["d"]["marks"], mongomock_ng.MongoClient()["d"]["marks"]
    await fast.create_index([("t", 1), ("b", 1)], unique=True)
    slow.create_index([("t", 1), ("b", 1)], unique=True)
    for _ in range(2):
        await fast.bulk_write(requests(), ordered=False)
        slow.bulk_write(requests(), ordered=False)
    got = await fast.find({}, {"_id": 0}).to_list()
    want = list(slow.find({}, {"_id": 0}))
    assert sorted(got, key=repr) == sorted(want, key=repr)
    assert len(got) == 7 and {d["g"] for d in got} == {6, 4}  # 20 = 6 x 3 + 1 x 2 a round
