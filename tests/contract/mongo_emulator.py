"""The MongoDB store in the contract suite: on an emulator always, on a real server if asked.

`mongo-emulated` runs `MongoDatabase` on mongomock-ng (an in-memory imitation of PyMongo's
synchronous API) behind a thin asynchronous wrapper that has the methods of
`AsyncMongoClient` the adapter calls. As with a server, the event loop does not wait
while an operation runs: each emulated server runs its writes and commands one at a
time, in order, on a thread of its own, and its reads beside them on a few more; the
caller awaits the answer as it would a network reply. (Run on the event loop, a read of
180k points stopped it for seconds to minutes, so no lease was renewed and no other
instance sharing the process moved meanwhile: the analytics takeover test hung there;
behind one long read, the writes of an instance shutting down waited half a minute.)

The store runs the same code on both: nothing in `infra/stores/mongo` knows the
emulator. What mongomock-ng lacks, the wrapper supplies, each as MongoDB documents it:
- time-series storage: mongomock-ng refuses the `timeseries` and `expireAfterSeconds`
  options, so the wrapper records them (`list_collections` reports them back, as a
  server does) and stores points in a plain collection that nothing expires;
- `collMod` of a collection's expiry or of a TTL index's (recorded, or the index rebuilt);
- `$sortArray` (an expression: the sorted array) and the `$firstN` accumulator (a
  `$push` of the group's values, then `$slice` to the first n), which the exact
  percentile pipeline uses;
- a final `$merge` stage (the rollup tiers' write, infra/stores/mongo/rollups): mongomock-ng
  has one, but it scans the target once per document and again per write for unique
  indexes (quadratic), and it skips the server's rules. The wrapper's (`merge` in
  mongo_shortcuts.py) runs the stages before it, then writes their output on the
  writes' thread, as one command, before `aggregate` returns (a server runs the whole
  command at once too; the cursor it answers is empty). It keeps the server's rules:
  `$merge` only as the last stage; `into` a collection of the same database that is not
  a time-series one; `on` fields backed by a unique index of exactly those fields, each
  present in every document and neither null nor an array; whenMatched `replace`,
  `merge`, `keepExisting` or `fail` and whenNotMatched `insert`, `discard` or `fail`
  (`pipeline` is not supplied); an `_id` never changes; no rollback of what a failing
  `$merge` wrote before it failed;
- bulk upserts (`UpdateOne(..., upsert=True)` with `$inc` / `$set`) whose filters name the
  fields of a unique index, in linear time (`upserts`): mongomock-ng scans the collection
  per request and again for its unique indexes, so the rollup dirty marks of a 3-day
  backfill (8,800 marks) took minutes and timed the request out;
- sessions with `with_transaction` around an async callback, on mongomock-ng's
  per-collection snapshots (a rollback, not isolation from concurrent writers);
- the server checks of `open` (version, FCV, replica set): `open_with_client` is given
  the server's features instead, and `tests/unit/test_mongo_server_checks.py` checks them
  against recorded server answers;
- reads in time linear in what they return, as a server's cursor batches are:
  mongomock-ng's `Cursor.__next__` copies the rest of its result list at every document
  (n documents cost n^2 / 2 copies: 40k points took 5 s, 180k minutes, all of it on the
  event loop), and its `aggregate` copies the whole collection before its first stage.
  The wrapper takes a cursor's result list once (`drain`) and runs a leading `$match`
  on its own, deciding plain comparisons (equality, `$in`, `$nin`, ranges, `$or` /
  `$nor` of them, narrowed to the clauses one field lets hold) with a few Python
  comparisons as a server's index would, and leaving only what those cannot decide to
  mongomock-ng's filter (`matching`), before the rest of the pipeline; a `$group`
  evaluates its `_id` once per document and groups by a dict (mongomock-ng sorted by
  its parser's answer, evaluated twice) (mongo_shortcuts.py, mongo_filters.py; a raw
  chart over 4k points went from 2 s to 0.3 s, the tier property test from 230 s to
  about 60 s).

What only `mongo-real` checks: time-series buckets and expiry, write concerns,
`timeoutMS`, elections, isolation of transactions, and a second process on the data
(`tests/contract/test_mongo_server.py` adds the checks no emulator can make).

`mongo-real` runs the same suite against the server at `VIGIL_TEST_MONGO_URL` (MongoDB
7.0 or later; a replica set for `w: "majority"`), one fresh database per test, dropped
when the test process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mongomock_ng
import pytest

from infra.stores.mongo import MongoDatabase, ServerFeatures
from tests.contract.mongo_shortcuts import (
    aggregate,
    drain,
    first_n_as_push,
    merge,
    split_merge,
    upserts,
)

URL_ENV = "VIGIL_TEST_MONGO_URL"
REAL_SKIP = (
    f"{URL_ENV} is not set: no MongoDB server to test against "
    "(the emulated MongoDB store ran this test instead)"
)
# Tests the emulator cannot take part in, and why.
EMULATOR_SKIPS = {
    "test_acknowledged_batches_survive_a_killed_process": (
        "the emulator lives in one process's memory: a second process cannot share it"
    ),
}


READERS = 4  # reads at once on one emulated server


class _Server:
    """Where an emulated server's operations run, off the event loop: writes and commands
    one at a time, in order, on one thread; reads through cursors (finds, aggregations)
    beside them on threads of their own, as a server runs a long read while it goes on
    writing (mongomock-ng's store takes a reader-writer lock around its documents)."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mongo-emulator")
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="mongo-emulator-read")

    async def run(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await self._on(self._thread, functools.partial(operation, *args, **kwargs))

    async def read(self, operation: Callable[[], Any]) -> Any:
        return await self._on(self._readers, operation)

    @staticmethod
    async def _on(pool: ThreadPoolExecutor, operation: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, operation)


class _Cursor:
    """What the adapter uses of AsyncCursor and AsyncCommandCursor."""

    def __init__(self, server: _Server, make: Callable[[], Any]) -> None:
        self._server = server
        self._make = make
        self._sort: Any = None
        self._limit = 0

    def sort(self, key: Any, direction: Any = None) -> _Cursor:
        self._sort = (key, direction)
        return self

    def limit(self, count: int) -> _Cursor:
        self._limit = count
        return self

    def batch_size(self, _size: int) -> _Cursor:
        return self

    async def close(self) -> None:
        return None

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = await self._server.read(self._read)
        return docs if length is None else docs[:length]

    def _read(self) -> list[dict[str, Any]]:
        cursor = self._make()
        if self._sort is not None:
            cursor = cursor.sort(*self._sort)
        if self._limit:
            cursor = cursor.limit(self._limit)
        return drain(cursor)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in await self.to_list():
            yield doc


class _Collection:
    def __init__(
        self, server: _Server, collection: Any, options: dict[str, dict[str, Any]]
    ) -> None:
        self._server = server
        self._c = collection
        self._options = options  # the database's recorded options (time-series ones)

    @property
    def name(self) -> str:
        return str(self._c.name)

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._server, lambda: self._c.find(*args, **_unwrap(kwargs)))

    async def aggregate(self, pipeline: list[dict[str, Any]], **_options: Any) -> _Cursor:
        # Options such as allowDiskUse mean nothing in memory; the cursor runs the pipeline.
        stages, into = split_merge(first_n_as_push(pipeline))
        if into is None:
            return _Cursor(self._server, lambda: aggregate(self._c, stages))
        await self._server.run(self._merge, stages, into)
        return _Cursor(self._server, lambda: iter([]))

    def _merge(self, stages: list[dict[str, Any]], into: dict[str, Any]) -> None:
        documents = drain(aggregate(self._c, stages))
        time_series = {name for name, opts in self._options.items() if "timeseries" in opts}
        merge(documents, self._c.database, into, time_series)

    async def bulk_write(self, requests: list[Any], **kwargs: Any) -> Any:
        def write() -> Any:
            # In a session, mongomock-ng's own (its transaction snapshots the collection).
            fast = None if kwargs.get("session") else upserts(self._c, list(requests))
            return fast if fast is not None else self._c.bulk_write(requests, **_unwrap(kwargs))

        return await self._server.run(write)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._c, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._server.run(method, *args, **_unwrap(kwargs))

        return call


class _Session:
    """An AsyncClientSession's `with_transaction` over a mongomock-ng session."""

    def __init__(self, server: _Server, session: Any) -> None:
        self._server = server
        self.session = session

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.run(self.session.end_session)

    async def with_transaction(self, callback: Callable[[Any], Any], **_options: Any) -> Any:
        await self._server.run(self.session.start_transaction)
        try:
            result = await callback(self)
        except BaseException:
            await self._server.run(self.session.abort_transaction)
            raise
        await self._server.run(self.session.commit_transaction)
        return result


def _unwrap(kwargs: dict[str, Any]) -> dict[str, Any]:
    session = kwargs.get("session")
    return kwargs | {"session": session.session} if isinstance(session, _Session) else kwargs


class _Database:
    def __init__(
        self, server: _Server, db: Any, options: dict[str, dict[str, Any]], client: Any
    ) -> None:
        self._server = server
        self._db = db
        self._options = options  # by collection: what mongomock-ng could not take
        self.name = db.name
        self.client = client

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._server, self._db[name], self._options)

    def get_collection(self, name: str, **options: Any) -> _Collection:
        return _Collection(self._server, self._db.get_collection(name, **options), self._options)

    async def command(self, command: str | dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._server.run(self._command, command)
        return result

    def _command(self, command: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(command, dict) and set(command) == {"collMod", "expireAfterSeconds"}:
            self._options.setdefault(command["collMod"], {})["expireAfterSeconds"] = command[
                "expireAfterSeconds"
            ]
            return {"ok": 1.0}
        if isinstance(command, dict) and set(command) == {"collMod", "index"}:
            # A TTL index's expiry changed in place: rebuilt here with the new one.
            collection, index = self._db[command["collMod"]], command["index"]
            keys = collection.index_information()[index["name"]]["key"]
            collection.drop_index(index["name"])
            seconds = index["expireAfterSeconds"]
            collection.create_index(keys, name=index["name"], expireAfterSeconds=seconds)
            return {"ok": 1.0}
        result: dict[str, Any] = self._db.command(command)
        return result

    async def list_collections(self, filter: dict[str, Any] | None = None) -> _Cursor:
        names = await self._server.run(self._db.list_collection_names, filter=filter)
        infos = [{"name": n, "options": dict(self._options.get(n, {}))} for n in names]
        return _Cursor(self._server, lambda: iter(infos))

    async def create_collection(self, name: str, **options: Any) -> _Collection:
        collection = await self._server.run(self._db.create_collection, name)
        self._options[name] = options  # timeseries, expireAfterSeconds: recorded only
        return _Collection(self._server, collection, self._options)


class EmulatedClient:
    """Looks like the parts of AsyncMongoClient that MongoDatabase uses."""

    def __init__(self) -> None:
        self._client: Any = mongomock_ng.MongoClient()
        self._options: dict[str, dict[str, dict[str, Any]]] = {}
        self._server = _Server()

    def __getitem__(self, name: str) -> _Database:
        return _Database(self._server, self._client[name], self._options.setdefault(name, {}), self)

    def start_session(self) -> _Session:
        return _Session(self._server, self._client.start_session())


EMULATOR_FEATURES = ServerFeatures("8.0.4 (mongomock-ng)", "8.0")

# One emulated server per tmp_path, so that a test that reopens the store (the restart
# tests) finds its data; each test has its own tmp_path, so no two tests share data.
# Tests run one at a time: keeping the last few servers is keeping each for its test.
_EMULATORS: OrderedDict[str, EmulatedClient] = OrderedDict()


async def open_mongo_emulated(tmp_path: Path) -> MongoDatabase:
    key = str(tmp_path)
    client = _EMULATORS.pop(key) if key in _EMULATORS else EmulatedClient()
    _EMULATORS[key] = client
    while len(_EMULATORS) > 4:
        _EMULATORS.popitem(last=False)
    return await MongoDatabase.open_with_client(
        client,  # type: ignore[arg-type]
        database="vigil",
        features=EMULATOR_FEATURES,
    )


_TO_DROP: set[tuple[str, str]] = set()


def _drop_databases() -> None:
    from pymongo import MongoClient

    for url, name in _TO_DROP:
        try:
            client: MongoClient[dict[str, Any]]
            with MongoClient(url, serverSelectionTimeoutMS=3000) as client:
                client.drop_database(name)
        except Exception as exc:  # the server went away: nothing more to do
            print(f"could not drop the test database {name}: {type(exc).__name__}")


atexit.register(_drop_databases)


async def open_mongo_real(tmp_path: Path) -> MongoDatabase:
    url = os.environ.get(URL_ENV)
    if not url:
        pytest.skip(REAL_SKIP)
    # The database name lives in tmp_path, so every process that opens this tmp_path
    # (the killed-writer test starts one) uses the same database, and no other does.
    marker = tmp_path / "mongo-database"
    if not marker.exists():
        marker.write_text(f"vigil_test_{uuid.uuid4().hex[:20]}")
    name = marker.read_text().strip()
    _TO_DROP.add((url, name))
    return await MongoDatabase.open(url, database=name)


def skip_reason(factory: object, test_name: str) -> str | None:
    """Why a contract test does not run on this factory, or None when it does."""
    if factory is open_mongo_emulated:
        return EMULATOR_SKIPS.get(test_name)
    if factory is open_mongo_real and not os.environ.get(URL_ENV):
        return REAL_SKIP
    return None
