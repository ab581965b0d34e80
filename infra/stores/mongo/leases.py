"""The LeaseStore port on MongoDB: a lease is one document taken with `find_one_and_update`
and `upsert`, where the unique `_id` makes one of two racing inserts fail."""

from __future__ import annotations

import re
from collections.abc import Collection

from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import LEASES, Database

__all__ = ["MongoLeaseStore"]


class MongoLeaseStore:
    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._leases = db.get_collection(LEASES, write_concern=concern)

    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        with unavailable("acquiring a lease"):
            try:
                await self._leases.find_one_and_update(
                    {"_id": name, "$or": [{"owner": owner}, {"expires_at": {"$lte": now_us}}]},
                    {"$set": {"owner": owner, "expires_at": now_us + ttl_us}},
                    upsert=True,
                )
            except DuplicateKeyError:  # the lease exists and another owner holds it
                return False
        return True

    async def renew_leases(
        self, names: Collection[str], owner: str, *, now_us: int, ttl_us: int
    ) -> set[str]:
        if not names:
            return set()
        mine = {"_id": {"$in": list(names)}, "owner": owner}
        with unavailable("renewing leases"):
            await self._leases.update_many(mine, {"$set": {"expires_at": now_us + ttl_us}})
            docs = await self._leases.find(mine, {"_id": 1}).to_list()
        return {doc["_id"] for doc in docs}

    async def release_lease(self, name: str, owner: str) -> None:
        with unavailable("releasing a lease"):
            await self._leases.delete_one({"_id": name, "owner": owner})

    async def lease_holders(self, prefix: str, *, now_us: int) -> dict[str, str]:
        where = {"_id": {"$regex": f"^{re.escape(prefix)}"}, "expires_at": {"$gt": now_us}}
        with unavailable("listing leases"):
            docs = await self._leases.find(where, {"owner": 1}).to_list()
        return {doc["_id"]: doc["owner"] for doc in docs}
