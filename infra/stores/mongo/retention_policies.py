"""Retention on MongoDB: each project's policy, and the deletion of expired raw points and
idempotency keys by the retention runner (domain/storage/retention).

Points: `deleteMany` on the time-series collection (MongoDB 7 deletes by any filter
there) by project, metric name and time, one day of points per call, so no single
delete holds the server for long. The collection-wide expiry (`expireAfterSeconds`,
`vigil retention DAYS`, retention.py) stays as the instance-wide ceiling, which the
server enforces on its own even when no runner runs. Policies are regular documents
`{_id: project, version, doc: RetentionPolicy.to_dict()}`, compare-and-set on `version`.

Idempotency keys: the runner deletes the claims marked done before the cutoff (a claim
in progress is left to its takeover rules, keys.py); the TTL index of `ingest_keys`
(which follows the ceiling) remains the backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.storage.retention.model import RetentionPolicy
from domain.storage.tiers import ROLLUP_TIERS
from infra.stores.mongo.dates import date_of_us, us_of_date
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import KEYS, POINTS, ROLLUP_DIRTY, SERIES, Database

__all__ = ["RETENTION_POLICIES", "MongoRetentionStore"]

RETENTION_POLICIES = "retention_policies"
SLICE_US = 86_400_000_000  # one day of points per deleteMany


class MongoRetentionStore:
    """The RetentionPolicyStore and PointExpiry ports (domain.storage.retention.ports)."""

    def __init__(self, db: Database, options: MongoOptions, *, slice_us: int = SLICE_US) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._policies = db.get_collection(RETENTION_POLICIES, write_concern=concern)
        self._points = db.get_collection(POINTS, write_concern=concern)
        self._keys = db.get_collection(KEYS, write_concern=concern)
        self._dirty = db.get_collection(ROLLUP_DIRTY, write_concern=concern)
        self._series = db[SERIES]
        self._slice_us = slice_us

    async def get_retention_policy(self, project: str) -> RetentionPolicy | None:
        with unavailable("reading a retention policy"):
            doc = await self._policies.find_one({"_id": project})
        return None if doc is None else RetentionPolicy.from_dict(doc["doc"])

    async def save_retention_policy(
        self, policy: RetentionPolicy, *, expected_version: int
    ) -> bool:
        doc = {"version": policy.version, "doc": policy.to_dict()}
        with unavailable("saving a retention policy"):
            if expected_version == 0:
                try:
                    await self._policies.insert_one({"_id": policy.project, **doc})
                except DuplicateKeyError:
                    return False
                return True
            result = await self._policies.replace_one(
                {"_id": policy.project, "version": expected_version}, doc
            )
        return bool(result.matched_count)

    async def retention_policies(self) -> list[RetentionPolicy]:
        with unavailable("listing retention policies"):
            docs = await self._policies.find({}).sort("_id", ASCENDING).to_list()
        return [RetentionPolicy.from_dict(d["doc"]) for d in docs]

    async def point_projects(self) -> list[str]:
        with unavailable("listing projects"):
            found = await self._series.distinct("p")
        return sorted(str(p) for p in found)

    async def point_names(self, project: str) -> list[str]:
        with unavailable("listing metric names"):
            found = await self._series.distinct("n", {"p": project})
        return sorted(str(n) for n in found)

    async def expire_points(
        self,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        where: dict[str, Any] = {"m.p": project}
        by_name: dict[str, Any] = {}
        if names is not None:
            by_name["$in"] = list(names)
        if exclude_names:
            by_name["$nin"] = list(exclude_names)
        if by_name:
            where["m.n"] = by_name
        with unavailable("deleting expired points"):
            oldest = await self._points.find_one(
                {**where, "t": {"$lt": date_of_us(before_us)}},
                {"t": 1},
                sort=[("t", ASCENDING)],
            )
            if oldest is None:
                return 0
            deleted = 0
            lo = us_of_date(oldest["t"])
            while lo < before_us:
                hi = min(lo + self._slice_us, before_us)
                result = await self._points.delete_many({**where, "t": {"$lt": date_of_us(hi)}})
                deleted += result.deleted_count
                lo = hi
            # A dirty bucket that lost points must keep its row, not be recomputed from
            # what is left: its mark goes (the tier is kept longer than raw points).
            named = {"n": by_name} if by_name else {}
            for tier in ROLLUP_TIERS:
                r = tier.resolution_us
                kept = -(-before_us // r) * r
                await self._dirty.delete_many(
                    {"t": tier.name, "p": project, "b": {"$lt": kept}, **named}
                )
        return deleted

    async def expire_ingest_keys(self, before_us: int) -> int:
        with unavailable("forgetting idempotency keys"):
            result = await self._keys.delete_many(
                {"at": {"$lt": date_of_us(before_us)}, "done": True}
            )
        return result.deleted_count
