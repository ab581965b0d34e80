"""ComplianceStore on MongoDB: audit checkpoints, access seen, reviews, revocations, runs.

Whatever two instances could race is one single-document operation: access seen is
merged with `$min`/`$max`/`$addToSet`; a review is replaced only at the version read; a
run is claimed by inserting it (or taking a lapsed claim over) and finished only by its
claimant, so one instance announces each run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    ComplianceRun,
    Revocation,
    RevocationKind,
)
from domain.system.model import Checkpoint
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["COMPLIANCE_INDEXES", "MongoComplianceStore"]

Database = AsyncDatabase[dict[str, Any]]

CHECKPOINTS = "audit_checkpoints"  # {_id: JSON [project, index], project, chain_index, ...}
USAGE = "access_usage"  # {_id: JSON [project, subject], **AccessUsage.to_dict()}
REVIEWS = "access_reviews"  # {_id: id, project, started_us, version, doc: to_dict()}
REVOCATIONS = "revocations"  # {_id: JSON [project, kind, value], project, at_us, doc}
RUNS = "compliance_runs"  # {_id: JSON [project, slot], project, owner, claim_until_us, ...}

COMPLIANCE_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    CHECKPOINTS: [([("project", ASCENDING), ("chain_index", DESCENDING)], {})],
    USAGE: [([("project", ASCENDING), ("subject", ASCENDING)], {})],
    REVIEWS: [([("project", ASCENDING), ("started_us", DESCENDING)], {})],
    REVOCATIONS: [([("project", ASCENDING), ("at_us", ASCENDING)], {})],
    RUNS: [([("project", ASCENDING), ("finished_us", DESCENDING)], {})],
}
_CP = {"_id": 0, "project": 1, "chain_index": 1, "hash": 1, "at_us": 1, "key_id": 1, "signature": 1}


def _key(*parts: object) -> str:
    return json.dumps(list(parts), separators=(",", ":"))


def _checkpoint(d: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        d["project"], d["chain_index"], d["hash"], d["at_us"], d["key_id"], d["signature"]
    )


class MongoComplianceStore:
    """The ComplianceStore port (domain.compliance.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._checkpoints = db.get_collection(CHECKPOINTS, write_concern=concern)
        self._usage = db.get_collection(USAGE, write_concern=concern)
        self._reviews = db.get_collection(REVIEWS, write_concern=concern)
        self._revocations = db.get_collection(REVOCATIONS, write_concern=concern)
        self._runs = db.get_collection(RUNS, write_concern=concern)

    # -- checkpoints -------------------------------------------------------------------------

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        doc = {
            "_id": _key(c.project, c.chain_index),
            "project": c.project,
            "chain_index": c.chain_index,
            "hash": c.hash,
            "at_us": c.at_us,
            "key_id": c.key_id,
            "signature": c.signature,
        }
        with unavailable("saving an audit checkpoint"):
            await self._checkpoints.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def checkpoints(self, project: str) -> list[Checkpoint]:
        with unavailable("reading audit checkpoints"):
            docs = (
                await self._checkpoints.find({"project": project}, _CP)
                .sort("chain_index", ASCENDING)
                .to_list()
            )
        return [_checkpoint(d) for d in docs]

    async def latest_checkpoint(self, project: str) -> Checkpoint | None:
        with unavailable("reading audit checkpoints"):
            docs = (
                await self._checkpoints.find({"project": project}, _CP)
                .sort("chain_index", DESCENDING)
                .limit(1)
                .to_list()
            )
        return _checkpoint(docs[0]) if docs else None

    # -- access seen -------------------------------------------------------------------------

    async def record_usage(self, usages: Sequence[AccessUsage]) -> None:
        with unavailable("recording access"):
            for u in usages:
                key = _key(u.project, u.subject)
                await self._usage.update_one(
                    {"_id": key},
                    {
                        "$setOnInsert": {"project": u.project, "subject": u.subject},
                        "$min": {"first_us": u.first_us},
                        "$max": {
                            "last_us": u.last_us,
                            "no_expiry": u.no_expiry,
                            # -1: no lifetime known (a token without expiry)
                            "longest_token_s": -1
                            if u.longest_token_s is None
                            else u.longest_token_s,
                        },
                        "$addToSet": {"used": {"$each": sorted(u.used)}},
                    },
                    upsert=True,
                )
                # The role and token of the latest use: only if this use is the latest.
                await self._usage.update_one(
                    {"_id": key, "last_us": u.last_us},
                    {"$set": {"role": u.role, "last_token_id": u.last_token_id}},
                )

    async def usage(self, project: str) -> list[AccessUsage]:
        with unavailable("reading access"):
            docs = (
                await self._usage.find({"project": project}, {"_id": 0})
                .sort("subject", ASCENDING)
                .to_list()
            )
        return [
            AccessUsage(
                project=d["project"],
                subject=d["subject"],
                role=d.get("role", ""),
                first_us=d["first_us"],
                last_us=d["last_us"],
                used=frozenset(d.get("used", ())),
                longest_token_s=d["longest_token_s"] if d.get("longest_token_s", -1) >= 0 else None,
                no_expiry=bool(d.get("no_expiry")),
                last_token_id=d.get("last_token_id", ""),
            )
            for d in docs
        ]

    # -- reviews -----------------------------------------------------------------------------

    async def save_review(self, review: AccessReview, *, expected_version: int | None) -> bool:
        doc = {
            "_id": review.id,
            "project": review.project,
            "started_us": review.started_us,
            "version": review.version,
            "doc": review.to_dict(),
        }
        with unavailable("saving an access review"):
            if expected_version is None:
                try:
                    await self._reviews.insert_one(doc)
                except DuplicateKeyError:
                    return False
                return True
            where = {"_id": review.id, "project": review.project, "version": expected_version}
            result = await self._reviews.replace_one(where, doc)
            return bool(result.matched_count)

    async def get_review(self, project: str, review_id: str) -> AccessReview | None:
        with unavailable("reading an access review"):
            doc = await self._reviews.find_one({"_id": review_id, "project": project})
        return AccessReview.from_dict(doc["doc"]) if doc else None

    async def list_reviews(self, project: str, *, first: int) -> list[AccessReview]:
        with unavailable("listing access reviews"):
            docs = (
                await self._reviews.find({"project": project})
                .sort([("started_us", DESCENDING), ("_id", DESCENDING)])
                .limit(first)
                .to_list()
            )
        return [AccessReview.from_dict(d["doc"]) for d in docs]

    # -- revocations -------------------------------------------------------------------------

    async def add_revocation(self, revocation: Revocation) -> bool:
        r = revocation
        doc = {
            "_id": _key(r.project, r.kind.value, r.value),
            "project": r.project,
            "at_us": r.at_us,
            "doc": r.to_dict(),
        }
        with unavailable("saving a revocation"):
            try:
                await self._revocations.insert_one(doc)
            except DuplicateKeyError:
                return False
        return True

    async def remove_revocation(self, project: str, kind: RevocationKind, value: str) -> bool:
        with unavailable("removing a revocation"):
            result = await self._revocations.delete_one({"_id": _key(project, kind.value, value)})
        return bool(result.deleted_count)

    async def revocations(self, project: str | None = None) -> list[Revocation]:
        where = {} if project is None else {"project": project}
        with unavailable("reading revocations"):
            docs = (
                await self._revocations.find(where)
                .sort([("at_us", ASCENDING), ("_id", ASCENDING)])
                .to_list()
            )
        return [Revocation.from_dict(d["doc"]) for d in docs]

    # -- runs --------------------------------------------------------------------------------

    async def claim_run(self, run: ComplianceRun, *, until_us: int) -> bool:
        key = _key(run.project, run.slot)
        fields = {"owner": run.owner, "claim_until_us": until_us, "doc": json.dumps(run.to_dict())}
        with unavailable("claiming a compliance run"):
            try:
                await self._runs.insert_one(
                    {"_id": key, "project": run.project, "finished_us": None, **fields}
                )
                return True
            except DuplicateKeyError:
                pass
            taken = await self._runs.update_one(
                {"_id": key, "finished_us": None, "claim_until_us": {"$lte": run.started_us}},
                {"$set": fields},
            )
        return bool(taken.matched_count)

    async def finish_run(self, run: ComplianceRun) -> bool:
        with unavailable("finishing a compliance run"):
            done = await self._runs.update_one(
                {"_id": _key(run.project, run.slot), "owner": run.owner, "finished_us": None},
                {"$set": {"finished_us": run.finished_us, "doc": json.dumps(run.to_dict())}},
            )
        return bool(done.matched_count)

    async def list_runs(self, project: str, *, first: int) -> list[ComplianceRun]:
        with unavailable("listing compliance runs"):
            docs = (
                await self._runs.find({"project": project, "finished_us": {"$ne": None}})
                .sort([("finished_us", DESCENDING), ("_id", DESCENDING)])
                .limit(first)
                .to_list()
            )
        return [ComplianceRun.from_dict(json.loads(d["doc"])) for d in docs]
