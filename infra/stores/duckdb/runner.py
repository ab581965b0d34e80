"""Blocking DuckDB calls off the event loop: writes on one thread, reads on a few; a
database DuckDB invalidated (a checkpoint on a full disk) is reopened here."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Concatenate, Generic, ParamSpec, TypeVar

import duckdb

from domain.errors import Unavailable
from infra.stores.duckdb.faults import StoreFaults, committed_but_invalidated
from infra.stores.duckdb.group_commit import GroupCommit
from infra.stores.duckdb.transaction import Cursor, transaction
from infra.thread_names import name_for_os

__all__ = ["Cursor", "Runner", "transaction"]

logger = logging.getLogger("vigil.store")

P = ParamSpec("P")
T = TypeVar("T")

REOPEN_BACKOFF_SECONDS = (0.05, 0.2, 0.5, 1.0)  # between attempts to reopen, then 1 s
# DuckDB forgets an interrupt that lands between two statements (or before the first):
# the next statement starts afresh. A cancelled call is interrupted again this often until
# it returns (one such miss left a 40M-point P99 running for over a CPU-second).
REINTERRUPT_SECONDS = 0.01


class Runner:
    """Owns the connection and gives every worker thread a cursor of its own.

    A DuckDB connection must not be used by two threads at once; `con.cursor()` opens
    another connection to the same database. Writes run on a single thread, so
    transactions never interleave and need no lock; reads run on `readers` threads and
    see committed data only, even while a write is in progress. Compaction runs on a
    maintenance thread of its own (`maintain`), so appends never wait for it.

    A read whose caller is cancelled (a query timeout, a client that left) is interrupted
    in DuckDB, so its thread is free again at once instead of finishing work nobody
    awaits; one not started yet never starts. Writes always finish: an acknowledged
    batch is never half cancelled.

    When DuckDB invalidates the database, every call answers `Unavailable` at once while
    a task closes every cursor and opens the file again with `connect` (DuckDB replays
    its log), retrying until it succeeds; `faults` tells health what is going on.
    """

    def __init__(
        self,
        con: Cursor,
        *,
        readers: int = 4,
        connect: Callable[[], Cursor] | None = None,
        faults: StoreFaults | None = None,
    ) -> None:
        self._con = con
        self._connect = connect
        self.faults = faults or StoreFaults()
        self.group = GroupCommit()  # the writer's shared transactions (points, audit)
        self._writer = _pool(1, "duckdb-writer")
        self._readers = _pool(readers, "duckdb-reader")
        # Long background work (compaction) on a cursor of its own, beside the writer.
        self._maintenance = _pool(1, "duckdb-maintenance")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cursors: list[Cursor] = []
        self._generation = 0
        self._active = 0  # calls running on a cursor (a reopen waits for none)
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._recovery: asyncio.Task[None] | None = None

    async def write(
        self, fn: Callable[Concatenate[Cursor, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._run(self._writer, lambda cur: fn(cur, *args, **kwargs))

    async def read(
        self, fn: Callable[Concatenate[Cursor, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._interruptible(self._readers, lambda cur: fn(cur, *args, **kwargs))

    async def maintain(
        self, fn: Callable[Concatenate[Cursor, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Background work beside the writer: its transactions interleave with appends
        (DuckDB's optimistic concurrency). Cancelling interrupts it, so `fn` must leave
        nothing half done when interrupted (one transaction, rolled back)."""
        return await self._interruptible(self._maintenance, lambda cur: fn(cur, *args, **kwargs))

    def fault(self, exc: BaseException) -> BaseException:
        """The error to raise for `exc` (a full disk or an invalidated database answers
        `Unavailable`); starts reopening the database if DuckDB invalidated it."""
        translated = self.faults.translate(exc)
        if self.faults.invalidated:
            self._recover_soon()
        return translated

    async def close(self) -> None:
        """Let running calls finish, then close every cursor and the database."""
        if self._closed:
            return
        self._closed = True
        if self._recovery is not None:
            self._recovery.cancel()
            with suppress(asyncio.CancelledError):
                await self._recovery
        await asyncio.to_thread(self._shutdown)

    async def _interruptible(self, pool: ThreadPoolExecutor, fn: Callable[[Cursor], T]) -> T:
        """`fn` on `pool`, interrupted in DuckDB if its caller is cancelled."""
        call = _Call(fn)
        try:
            return await self._run(pool, call.run)
        except asyncio.CancelledError:
            _interrupt_until_done(call)
            raise

    async def _run(self, pool: ThreadPoolExecutor, call: Callable[[Cursor], T]) -> T:
        if self._closed:
            raise Unavailable("the DuckDB store is closed")
        if self.faults.invalidated:
            self._recover_soon()
            raise self.faults.unavailable()
        loop = asyncio.get_running_loop()
        try:
            result, durable_fault = await loop.run_in_executor(pool, self._on_thread, call)
        except duckdb.Error as exc:
            translated = self.fault(exc)
            if translated is exc:
                raise
            raise translated from exc
        if durable_fault:  # stored; the database needs reopening before the next call
            self.faults.mark_invalidated(durable_fault)
            self._recover_soon()
        return result

    def _on_thread(self, call: Callable[[Cursor], T]) -> tuple[T, str | None]:
        with self._lock:
            generation = getattr(self._local, "generation", -1)
            cursor: Cursor | None = getattr(self._local, "cursor", None)
            if cursor is None or generation != self._generation:
                cursor = self._con.cursor()  # the parent makes one cursor at a time
                self._cursors.append(cursor)
                self._local.cursor, self._local.generation = cursor, self._generation
            self._active += 1
        try:
            committed_but_invalidated()  # a stale flag of an earlier call: not ours
            result = call(cursor)
            return result, committed_but_invalidated()
        finally:
            with self._lock:
                self._active -= 1
                self._idle.notify_all()

    def _recover_soon(self) -> None:
        if self._recovery is None or self._recovery.done():
            if self._connect is None or self._closed:
                return  # an in-memory database cannot be opened again: it stays down
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        attempt = 0
        started = time.monotonic()
        while not self._closed:
            try:
                await asyncio.to_thread(self._reopen)
            except Exception as exc:  # every failure is retried
                self.faults.reopen_failures += 1
                logger.error("store: reopening failed (attempt %d): %s", attempt + 1, exc)
                delay = REOPEN_BACKOFF_SECONDS[min(attempt, len(REOPEN_BACKOFF_SECONDS) - 1)]
                attempt += 1
                await asyncio.sleep(delay)
                continue
            self.faults.reopens += 1
            self.faults.reopen_failures = 0
            self.faults.last_reopen_seconds = time.monotonic() - started
            self.faults.invalidated = ""
            logger.warning(
                "store: reopened after %.2f s (%d failed attempts)",
                self.faults.last_reopen_seconds,
                attempt,
            )
            return

    def _reopen(self) -> None:
        """Close every cursor and the connection (DuckDB drops an instance only when its
        last connection closes), then connect again; calls wait on the lock meanwhile."""
        assert self._connect is not None
        with self._lock:
            while self._active:
                self._idle.wait()
            for cursor in self._cursors:
                with suppress(duckdb.Error):
                    cursor.close()
            self._cursors.clear()
            with suppress(duckdb.Error):
                self._con.close()
            self._generation += 1
            self._con = self._connect()

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._maintenance.shutdown(wait=True)
        for cursor in self._cursors:
            with suppress(duckdb.Error):
                cursor.close()
        with suppress(duckdb.Error):
            self._con.close()


def _pool(threads: int, name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix=name, initializer=name_for_os)


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
            if self._interrupted:  # an interrupt may have cut `fn`'s own rollback short
                with suppress(duckdb.Error):  # no transaction open: nothing to do
                    cursor.rollback()

    def interrupt(self) -> bool:
        """Interrupts the statement running now, if any; True while the call still runs."""
        with self._lock:
            self._interrupted = True
            if self._cursor is None:
                return False
            self._cursor.interrupt()
            return True


def _interrupt_until_done(call: _Call[T]) -> None:
    """Interrupts `call` now and every REINTERRUPT_SECONDS until it returns: its Python
    code may be between two statements when the first interrupt lands."""
    if call.interrupt():
        asyncio.get_running_loop().call_later(REINTERRUPT_SECONDS, _interrupt_until_done, call)
