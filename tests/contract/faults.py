"""Failures injected into a store's write path, so that the contract suite runs its recovery.

A batch rejected before any write never reaches the recovery code; these make a write
fail after part of a batch is stored, or make the caller give up on a write that the
store still carries out. Each store fails where it really can:

- MongoDB (emulated or real): a wrapper around the points collection of the store's
  writer. Its `insert_many` stores the first points of the batch, then raises the
  error a lost connection raises; or raises a timeout at once and inserts the whole batch
  later, as a server does with a command whose client gave up.
- DuckDB: the statement that writes the points runs, then raises, inside the writer's
  transaction; or the writer thread waits inside the transaction while the caller is
  cancelled, then commits.

Nothing here is in the product path: the wrappers replace one attribute of one store
object, for one test.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from pymongo.errors import AutoReconnect, NetworkTimeout

from domain.metrics.ports import AppendResult
from infra.stores.duckdb import overlap
from infra.stores.mongo import MongoDatabase
from tests.contract.conftest import StoreDatabase, StoreFactory, open_duckdb
from tests.contract.mongo_emulator import (
    EMULATOR_FEATURES,
    URL_ENV,
    open_mongo_emulated,
)

__all__ = ["Faults", "another_instance", "faults_for"]

T = TypeVar("T")


class Faults(Protocol):
    kind: str

    def fail_part_way(self, *, stored: int) -> None:
        """From now on, a write of points stores the first `stored` points of its batch
        (where the store can store part of one), then fails; until `heal()`."""

    def heal(self) -> None: ...

    async def give_up_while_writing(self, append: Awaitable[AppendResult]) -> BaseException:
        """Run `append` until the store is writing its points, make the caller give up
        (a timeout, a cancellation): the error the caller saw. The write goes on."""

    async def land(self) -> None:
        """Let the write the caller gave up on finish, and wait until it has."""

    async def before_landing(self, retry: Callable[[], Awaitable[T]]) -> T:
        """Run `retry` as far as it can go while the abandoned write still runs, then
        land it and answer the retry's result."""


class MongoFaults:
    """Wraps the points collection of a MongoDB store's writer."""

    def __init__(self, db: StoreDatabase, kind: str) -> None:
        self.kind = kind
        writer = db.metrics._writer  # type: ignore[attr-defined]
        self._points = _Points(writer._points)
        writer._points = self._points
        self._voids = _Voids(writer._voids)
        writer._voids = self._voids

    def fail_part_way(self, *, stored: int) -> None:
        self._points.part = stored

    def hang_part_way(self, *, stored: int) -> asyncio.Event:
        """The next write stores `stored` points, then never returns (a writer that
        died or stalled) until `release_hung()`: the event is set once those points are
        stored."""
        self._points.part, self._points.hang = stored, asyncio.Event()
        return self._points.hang

    def release_hung(self) -> None:
        """The hung write fails at last, as a lost connection does: its writer gives up."""
        self._points.released.set()

    def fail_marking_void(self) -> None:
        """Marking a batch void fails too (the server cannot be reached); until heal()."""
        self._voids.failing = True

    def heal(self) -> None:
        self._points.part = None
        self._voids.failing = False

    async def give_up_while_writing(self, append: Awaitable[AppendResult]) -> BaseException:
        self._points.late = asyncio.Event()
        try:
            await append
        except Exception as exc:
            return exc
        raise AssertionError("the append succeeded although its write timed out")

    async def land(self) -> None:
        assert self._points.late is not None and self._points.landing is not None
        self._points.late.set()
        await self._points.landing

    async def before_landing(self, retry: Callable[[], Awaitable[T]]) -> T:
        result = await retry()  # the server runs both writes side by side
        await self.land()
        return result


class _Points:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.part: int | None = None
        self.late: asyncio.Event | None = None
        self.landing: asyncio.Task[None] | None = None
        self.hang: asyncio.Event | None = None
        self.released = asyncio.Event()

    async def insert_many(self, documents: list[dict[str, Any]], **options: Any) -> Any:
        if self.late is not None and self.landing is None:
            late = self.late
            self.landing = asyncio.create_task(self._land(late, documents, options))
            raise NetworkTimeout("timed out (injected: the server still applies the insert)")
        if self.part is not None:
            await self._inner.insert_many(documents[: self.part], **options)
            if self.hang is not None:
                hang, self.hang, self.part = self.hang, None, None
                hang.set()
                await self.released.wait()  # until released, or cancelled
            raise AutoReconnect("connection closed (injected after part of the batch)")
        return await self._inner.insert_many(documents, **options)

    async def _land(
        self, late: asyncio.Event, documents: list[dict[str, Any]], options: Any
    ) -> None:
        await late.wait()
        await self._inner.insert_many(documents, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Voids:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failing = False

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        if self.failing:
            raise AutoReconnect("connection closed (injected while marking a batch void)")
        return await self._inner.update_one(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class DuckDBFaults:
    """Patches the step of the DuckDB writer that deletes and inserts points."""

    kind = "duckdb"

    def __init__(self, db: StoreDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
        self._runner = db.metrics._run  # type: ignore[attr-defined]
        self._apply = overlap.apply
        self._failing = False
        self._entered = threading.Event()
        self._proceed: threading.Event | None = None
        # The writer's own reference to it (ingest.py imports the function).
        monkeypatch.setattr("infra.stores.duckdb.ingest.apply", self._patched)

    def fail_part_way(self, *, stored: int) -> None:
        self._failing = True  # a transaction stores all of a batch or nothing of it

    def heal(self) -> None:
        self._failing = False

    async def give_up_while_writing(self, append: Awaitable[AppendResult]) -> BaseException:
        self._proceed = threading.Event()
        self._entered.clear()
        task = asyncio.ensure_future(append)
        await asyncio.to_thread(self._entered.wait)  # the writer is inside the transaction
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            return exc
        raise AssertionError("the append finished although its caller was cancelled")

    async def land(self) -> None:
        assert self._proceed is not None
        self._proceed.set()
        # The writer thread runs one call at a time: this one runs once the transaction
        # under way has committed.
        await self._runner.write(lambda _cur: None)

    async def before_landing(self, retry: Callable[[], Awaitable[T]]) -> T:
        # One writer thread: the retry can only queue behind the write under way.
        task = asyncio.ensure_future(retry())
        await asyncio.sleep(0)
        await self.land()
        return await task

    def _patched(self, cur: Any, plan: Any) -> None:
        proceed = self._proceed
        if proceed is not None and not proceed.is_set():
            self._entered.set()
            proceed.wait()
            self._proceed = None
            self._apply(cur, plan)
            return
        self._apply(cur, plan)
        if self._failing:
            raise RuntimeError("injected: the writer failed after writing the points")


def faults_for(store_factory: StoreFactory, db: StoreDatabase, mp: pytest.MonkeyPatch) -> Faults:
    if store_factory is open_duckdb:
        return DuckDBFaults(db, mp)
    kind = "mongo-emulated" if store_factory is open_mongo_emulated else "mongo-real"
    return MongoFaults(db, kind)


async def another_instance(
    store_factory: StoreFactory, db: StoreDatabase, tmp_path: Path, **options: Any
) -> MongoDatabase:
    """A second MongoDB store on the same data, as another Vigil process would open it."""
    assert isinstance(db, MongoDatabase)
    settings = replace(db.options, **options)
    if store_factory is open_mongo_emulated:
        client = db.metrics._db.client
        return await MongoDatabase.open_with_client(
            client, database=db.name, options=settings, features=EMULATOR_FEATURES
        )
    return await MongoDatabase.open(os.environ[URL_ENV], database=db.name, options=settings)
