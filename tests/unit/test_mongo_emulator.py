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
