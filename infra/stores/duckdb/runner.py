"""Blocking DuckDB calls off the event loop: writes on one thread, reads on a few."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Concatenate, Generic, ParamSpec, TypeVar

import duckdb

from domain.errors import Unavailable

__all__ = ["Cursor", "Runner", "transaction"]

Cursor = duckdb.DuckDBPyConnection
P = ParamSpec("P")
T = TypeVar("T")


class Runner:
    """Owns the connection and gives every worker thread a cursor of its own.

    A DuckDB connection must not be used by two threads at once; `con.cursor()` opens
    another connection to the same database. Writes run on a single thread, so
    transactions never interleave and need no lock; reads run on `readers` threads and
    see committed data only, even while a write is in progress.

    A read whose caller is cancelled (a query timeout, a client that left) is interrupted
    in DuckDB, so its thread is free again at once instead of finishing work nobody
    awaits; one not started yet never starts. Writes always finish: an acknowledged
    batch is never half cancelled.
    """

    def __init__(self, con: Cursor, *, readers: int = 4) -> None:
        self._con = con
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="duckdb-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="duckdb-reader")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cursors: list[Cursor] = []
        self._closed = False

    async def write(
        self, fn: Callable[Concatenate[Cursor, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._run(self._writer, lambda cur: fn(cur, *args, **kwargs))

    async def read(
        self, fn: Callable[Concatenate[Cursor, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        call = _Call(lambda cur: fn(cur, *args, **kwargs))
        try:
            return await self._run(self._readers, call.run)
        except asyncio.CancelledError:
            call.interrupt()
            raise

    async def close(self) -> None:
        """Let running calls finish, then close every cursor and the database."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    async def _run(self, pool: ThreadPoolExecutor, call: Callable[[Cursor], T]) -> T:
        if self._closed:
            raise Unavailable("the DuckDB store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, self._on_thread, call)

    def _on_thread(self, call: Callable[[Cursor], T]) -> T:
        cursor: Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._lock:  # the parent connection may only make one cursor at a time
                cursor = self._con.cursor()
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return call(cursor)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        for cursor in self._cursors:
            cursor.close()
        self._con.close()


class _Interrupted(Exception):
    """A read cancelled before it started."""


class _Call(Generic[T]):
    """One read on a reader thread, which another thread may interrupt."""

    __slots__ = ("_cursor", "_fn", "_interrupted", "_lock")

    def __init__(self, fn: Callable[[Cursor], T]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._cursor: Cursor | None = None
        self._interrupted = False

    def run(self, cursor: Cursor) -> T:
        with self._lock:
            if self._interrupted:  # cancelled while queued: nobody awaits the result
                raise _Interrupted
            self._cursor = cursor
        try:
            return self._fn(cursor)
        finally:
            with self._lock:  # interrupt() never reaches the cursor's next call
                self._cursor = None

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            if self._cursor is not None:
                self._cursor.interrupt()


def transaction(fn: Callable[Concatenate[Cursor, P], T]) -> Callable[Concatenate[Cursor, P], T]:
    """Run `fn` in one transaction: all its statements commit, or none does."""

    @functools.wraps(fn)
    def run(cur: Cursor, /, *args: P.args, **kwargs: P.kwargs) -> T:
        cur.begin()
        try:
            result = fn(cur, *args, **kwargs)
            cur.commit()
        except BaseException:
            with suppress(duckdb.Error):
                cur.rollback()
            raise
        return result

    return run
