"""One transaction for everything waiting on the writer thread: points and audit entries.

A small ingest request is a points batch and then an audit entry, each awaited until
durable. Each DuckDB statement has a fixed cost of ~0.15-0.3 ms of CPU (BEGIN and COMMIT
included) whatever its rows, so under many small requests the writer's cost per request
is set by how many requests share a transaction. Writing, in one transaction, the batches
and the entries that are waiting at the same moment shares the BEGIN and COMMIT of both
(docs/decisions/0038-one-transaction-for-points-and-audit.md has the measurements).

Each queue keeps its work all-or-nothing per caller: when the shared transaction fails,
every part is stored again in transactions of its own (`alone`), which find the faulty
caller and store the others.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import duckdb

from infra.stores.duckdb.faults import commit

__all__ = ["GroupCommit", "Part", "Staging", "WaitingWork"]

Cursor = duckdb.DuckDBPyConnection
S = TypeVar("S")


class Part(Protocol):
    """Work taken from one queue for the next transaction."""

    def write(self, cur: Cursor) -> None:
        """Its statements, inside the shared transaction; answers nobody yet."""

    def committed(self) -> None:
        """The transaction committed: remember what it wrote and answer the callers."""

    def alone(self, cur: Cursor) -> None:
        """The shared transaction failed: store this part in transactions of its own,
        answering every caller with its result or its error."""


@dataclass(eq=False, slots=True)
class Staging(Generic[S]):
    """A Part from three functions of its queue: `stage` runs the statements and returns
    what `settle` needs once they have committed; `alone` is `Part.alone`."""

    stage: Callable[[Cursor], S]
    settle: Callable[[S], None]
    store_alone: Callable[[Cursor], None]
    staged: S | None = None

    def write(self, cur: Cursor) -> None:
        self.staged = self.stage(cur)

    def committed(self) -> None:
        assert self.staged is not None
        self.settle(self.staged)

    def alone(self, cur: Cursor) -> None:
        self.store_alone(cur)


class WaitingWork(Protocol):
    def take(self) -> Part | None:
        """The work waiting now (removed from the queue), or None."""


class GroupCommit:
    """The writer thread's drain: takes what every queue holds and commits it at once.

    Every caller queues its work, then awaits `runner.write(group.drain)`. Drains run in
    order on the one writer thread, so when the caller's drain has run, its work has been
    taken by it or by an earlier one, and its answer is final.
    """

    def __init__(self) -> None:
        self._queues: list[WaitingWork] = []

    def join(self, queue: WaitingWork) -> None:
        self._queues.append(queue)

    def drain(self, cur: Cursor) -> None:
        parts = [part for queue in self._queues if (part := queue.take()) is not None]
        if not parts:
            return
        try:
            cur.begin()
            for part in parts:
                part.write(cur)
            commit(cur)
        except Exception:
            with suppress(duckdb.Error):
                cur.rollback()
            for part in parts:
                part.alone(cur)
            return
        except BaseException:
            with suppress(duckdb.Error):
                cur.rollback()
            raise
        for part in parts:
            part.committed()
