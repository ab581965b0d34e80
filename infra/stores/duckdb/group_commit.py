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
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from infra.stores.duckdb.transaction import Cursor, transaction

__all__ = ["GroupCommit", "Staging", "WaitingWork"]

S = TypeVar("S")


@dataclass(eq=False, slots=True)
class Staging(Generic[S]):
    """Work taken from one queue for the next transaction.

    `stage` runs its statements inside the shared transaction and returns what `settle`
    needs once they have committed (`settle` answers the callers). If the shared
    transaction fails, `alone` stores the same work in transactions of its own,
    answering every caller with its result or its error.
    """

    stage: Callable[[Cursor], S]
    settle: Callable[[S], None]
    alone: Callable[[Cursor], None]
    staged: S | None = None

    def write(self, cur: Cursor) -> None:
        self.staged = self.stage(cur)

    def committed(self) -> None:
        assert self.staged is not None
        self.settle(self.staged)


class WaitingWork(Protocol):
    def take(self) -> Staging[Any] | None:
        """The work waiting now (removed from the queue), or None."""


@transaction
def _write(cur: Cursor, parts: list[Staging[Any]]) -> None:
    for part in parts:
        part.write(cur)


class GroupCommit:
    """The writer thread's drain: takes what every queue holds and commits it at once.

    Every caller queues its work, then awaits `runner.write(group.drain)`. Drains run in
    order on the one writer thread, so when the caller's drain has run, its work has been
    taken by it or by an earlier one, and its answer is final.
    """

    def __init__(self) -> None:
        self._queues: list[WaitingWork] = []
        self._last: list[WaitingWork] = []

    def join(self, queue: WaitingWork, *, last: bool = False) -> None:
        """`last`: taken and staged after every other queue in each drain (the audit
        entries, some of which go with a batch the same drain must have taken)."""
        (self._last if last else self._queues).append(queue)

    def drain(self, cur: Cursor) -> None:
        queues = [*self._queues, *self._last]
        parts = [part for queue in queues if (part := queue.take()) is not None]
        if not parts:
            return
        try:
            _write(cur, parts)
        except Exception:
            for part in parts:
                part.alone(cur)
            return
        for part in parts:
            part.committed()
