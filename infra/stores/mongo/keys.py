"""Idempotency keys without transactions: a claim per (project, key), marked done once stored.

A claim is `{_id, p, k, n, b, done, at, lo, hi}` in `ingest_keys` (unique on `p, k`):
the first append with a key inserts it, stores its batch `b`, then marks it done; a
used key answers `n` with `replayed=True`. A claim is never released before its batch
is void (batches.py), so whatever of that batch the server applies late stays invisible.
A claim not done after `key_stale_seconds` (longer than any call can last) is presumed
dead and taken over: its batch goes to the claim's `abandoned` list, which the taker
marks void before storing its own. This process takes over at once the claims it gave
up itself (their writer is known to be gone).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.errors import Unavailable
from domain.metrics.ports import AppendResult
from infra.stores.mongo.batches import VoidBatch
from infra.stores.mongo.dates import now
from infra.stores.mongo.options import MongoOptions

__all__ = ["Claim", "KeyClaims"]

log = logging.getLogger("vigil.store.mongo")


@dataclass(frozen=True, slots=True)
class Claim:
    """A key this append holds, and the batches of earlier writers to void first."""

    id: Any
    project: str
    key: str
    abandoned: list[VoidBatch] = field(default_factory=list)


class KeyClaims:
    def __init__(self, keys: AsyncCollection[dict[str, Any]], options: MongoOptions) -> None:
        self._keys = keys
        self._options = options
        self._given_up: dict[tuple[str, str], ObjectId] = {}

    async def claim(
        self, project: str, key: str, batch: VoidBatch, count: int
    ) -> Claim | AppendResult:
        """Claim the key for `batch`, or the first batch's answer when the key is used."""
        deadline = time.monotonic() + self._options.key_wait_seconds
        stale = timedelta(seconds=self._options.key_stale_seconds)
        pause = 0.01
        fields = {"p": project, "k": key, "n": count, "b": batch.id, "lo": batch.lo_us}
        while time.monotonic() < deadline:
            try:
                doc = {"_id": batch.id, **fields, "hi": batch.hi_us, "done": False, "at": now()}
                await self._keys.insert_one(doc)
                return Claim(batch.id, project, key)
            except DuplicateKeyError:
                pass
            found = await self._keys.find_one({"p": project, "k": key})
            if found is None:
                continue  # released since: claim it again
            if found["done"]:
                return AppendResult(int(found["n"]), replayed=True)
            gone = found["b"] == self._given_up.get((project, key))
            if gone or now() - found["at"] > stale:
                abandoned = await self._take_over(found, batch, count)
                if abandoned is not None:
                    self._given_up.pop((project, key), None)
                    return Claim(found["_id"], project, key, abandoned)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
        raise Unavailable("MongoDB: a batch with this idempotency key is still being stored")

    async def finish(self, claim: Claim, batch_id: ObjectId) -> bool:
        """Mark the key done; False if another writer took it over meanwhile."""
        marked = await self._keys.update_one(
            {"_id": claim.id, "b": batch_id},
            {"$set": {"done": True}, "$unset": {"abandoned": ""}},
        )
        return marked.matched_count == 1

    async def release(self, claim: Claim, batch_id: ObjectId) -> None:
        """Free the key of a batch already marked void, so that a retry claims it at once."""
        await self._keys.delete_one({"_id": claim.id, "b": batch_id, "done": False})

    def give_up(self, claim: Claim, batch_id: ObjectId) -> None:
        """This process will not finish the claim: a retry here may take it over at once."""
        self._given_up[claim.project, claim.key] = batch_id

    async def _take_over(
        self, found: dict[str, Any], batch: VoidBatch, count: int
    ) -> list[VoidBatch] | None:
        """Own a claim whose writer is gone; its batch joins those to void."""
        old = {"b": found["b"], "lo": found.get("lo"), "hi": found.get("hi")}
        taken = await self._keys.find_one_and_update(
            {"_id": found["_id"], "b": found["b"], "done": False},
            {
                "$set": {
                    "b": batch.id,
                    "n": count,
                    "at": now(),
                    "lo": batch.lo_us,
                    "hi": batch.hi_us,
                },
                "$push": {"abandoned": old},
            },
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            return None
        log.warning("MongoDB: took over an unfinished idempotency key of project %s", found["p"])
        return [
            VoidBatch.of({"_id": a["b"]} | {k: a[k] for k in ("lo", "hi") if a.get(k) is not None})
            for a in taken.get("abandoned", [])
        ]
