"""Multi-document transactions on the ordinary collections (never on the time-series one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import Database

__all__ = ["Session", "in_transaction"]

T = TypeVar("T")
Session = AsyncClientSession


async def in_transaction(
    db: Database, options: MongoOptions, work: Callable[[Session], Awaitable[T]]
) -> T:
    """Run `work` in one transaction: all its writes commit together, or none does.

    Vigil requires a replica set (server.py), which has transactions. `work` may run
    more than once: the driver retries a transaction that hit a transient error (a
    write conflict with another instance, an election) within the operation timeout, so
    it must only read and write through the session it is given.
    """
    concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
    client: Any = db.client
    async with client.start_session() as session:
        result: T = await session.with_transaction(
            work, read_concern=ReadConcern("majority"), write_concern=concern
        )
        return result
