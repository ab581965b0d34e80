"""A query's time limit: past it the work is cancelled and the caller answered `TIMEOUT`.

Cancelling the execution cancels the store's reads with it: the DuckDB runner interrupts
the query on its reader thread (infra/stores/duckdb/runner.py), and PyMongo's operations
carry `maxTimeMS` (through `pymongo.timeout`), so MongoDB stops the work on its side too.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from graphql import GraphQLError
from strawberry.types import ExecutionResult

__all__ = ["MONGO_GRACE_SECONDS", "QueryTimeout", "deadline", "timeout_message"]

T = TypeVar("T")

# MongoDB's own limit runs this much longer than ours, so that ours answers first, with
# TIMEOUT, and MongoDB's stops the server's work that a closed socket does not.
MONGO_GRACE_SECONDS = 1.0


@contextlib.asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Cancel the block after `seconds` (TimeoutError); MongoDB reads inside it carry
    `maxTimeMS` too."""
    with _mongo_timeout(seconds + MONGO_GRACE_SECONDS):
        async with asyncio.timeout(seconds):
            yield


def _mongo_timeout(seconds: float) -> contextlib.AbstractContextManager[object]:
    """`pymongo.timeout` once PyMongo is loaded (the MongoDB store imports it); without it
    no MongoDB call can run, and a DuckDB server saves its ~10 MB of imports."""
    pymongo = sys.modules.get("pymongo")
    if pymongo is None:
        return contextlib.nullcontext()
    timeout: contextlib.AbstractContextManager[object] = pymongo.timeout(seconds)
    return timeout


def timeout_message(seconds: float) -> str:
    return (
        f"this query ran longer than {seconds:g} s and was stopped: ask for a shorter "
        "range, a coarser step or fewer series"
    )


class QueryTimeout:
    def __init__(self, seconds: float, *, observe: Callable[[str], None] | None = None) -> None:
        self.seconds = seconds
        self.observe = observe

    async def run(self, execution: Awaitable[T]) -> T | ExecutionResult:
        """The execution's result, or a TIMEOUT error once it ran out of time."""
        try:
            async with deadline(self.seconds):
                return await execution
        except TimeoutError:
            return ExecutionResult(data=None, errors=[self.expired()])

    def expired(self) -> GraphQLError:
        """The TIMEOUT error of a query stopped at the limit (counted by `observe`)."""
        if self.observe is not None:
            self.observe("TIMEOUT")
        return GraphQLError(
            timeout_message(self.seconds),
            extensions={"code": "TIMEOUT", "timeout_seconds": self.seconds},
        )
