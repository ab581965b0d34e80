"""AuditStore on MongoDB: entries numbered by an atomic counter and chained per project.

An entry is linked to the newest entry of its project and inserted; the unique index on
(project, chain_index) lets exactly one of two instances that linked to the same entry
insert, and the other links again to the winner. Within one process, a lock per project
keeps its own writers from racing each other.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.errors import Unavailable
from domain.system.model import link
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.mongo.dates import date_of_us
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import AUDIT, COUNTERS, Database

__all__ = ["MongoAuditStore", "audit_doc", "doc_entry"]

_FIELDS = {"_id": 0, "ts": 0}
_RACES = 100  # links lost to other instances before giving up


def _dumps(value: Any) -> str:
    # JSON text, as in the DuckDB store: any key and any value goes.
    return json.dumps(value, separators=(",", ":"), default=str)


def audit_doc(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "actor": entry.actor,
        "action": entry.action,
        "project": entry.project,
        "outcome": entry.outcome,
        "ts": date_of_us(entry.timestamp_us),
        "us": entry.timestamp_us,
        "request_id": entry.request_id,
        "detail": _dumps(entry.detail),
        "role": entry.role,
        "target": _dumps(entry.target),
        "changes": _dumps(entry.changes),
        "client": entry.client,
        "chain_index": entry.chain_index,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def doc_entry(d: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        actor=d["actor"],
        action=d["action"],
        project=d["project"],
        outcome=d["outcome"],
        timestamp_us=d["us"],
        request_id=d["request_id"],
        detail=json.loads(d["detail"]),
        seq=d["seq"],
        role=d.get("role", ""),
        target=json.loads(d.get("target", "{}")),
        changes=json.loads(d.get("changes", "[]")),
        client=d.get("client", ""),
        chain_index=d.get("chain_index", 0),
        prev_hash=d.get("prev_hash", ""),
        hash=d.get("hash", ""),
    )


class MongoAuditStore:
    """`seq` comes from `$inc` on one counter document, so it only grows, in every
    instance and across restarts. Two entries recorded at once may become visible out
    of `seq` order for the moment between their two writes."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._audit = db.get_collection(AUDIT, write_concern=concern)
        self._counters = db.get_collection(COUNTERS, write_concern=concern)
        self._locks: dict[str, asyncio.Lock] = {}

    async def record(self, entry: AuditEntry) -> AuditEntry:
        lock = self._locks.setdefault(entry.project, asyncio.Lock())
        with unavailable("recording an audit entry"):
            counter = await self._counters.find_one_and_update(
                {"_id": AUDIT},
                {"$inc": {"n": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            assert counter is not None  # upsert=True with ReturnDocument.AFTER
            entry = replace(entry, seq=int(counter["n"]))
            async with lock:
                for _ in range(_RACES):
                    head = await self._head_link(entry.project)
                    linked = link(entry, head)
                    try:
                        await self._audit.insert_one(audit_doc(linked))
                    except DuplicateKeyError:
                        continue  # another instance took this index: link to its entry
                    return linked
        raise Unavailable("recording an audit entry: too many instances writing at once")

    async def _head_link(self, project: str) -> tuple[int, str] | None:
        doc = await self._audit.find_one(
            {"project": project},
            {"_id": 0, "chain_index": 1, "hash": 1},
            sort=[("chain_index", DESCENDING)],
        )
        return (int(doc["chain_index"]), str(doc["hash"])) if doc else None

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]:
        """Newest first; `after` is the `seq` of the last entry already seen."""
        if query.first <= 0:
            return []
        where: dict[str, Any] = {"project": query.project}
        if query.actor is not None:
            where["actor"] = query.actor
        if query.action is not None:
            where["action"] = query.action
        if query.start_us is not None or query.end_us is not None:
            where["us"] = {
                **({"$gte": query.start_us} if query.start_us is not None else {}),
                **({"$lt": query.end_us} if query.end_us is not None else {}),
            }
        if query.after is not None:
            where["seq"] = {"$lt": query.after}
        with unavailable("listing audit entries"):
            cursor = self._audit.find(where, _FIELDS).sort("seq", DESCENDING).limit(query.first)
            docs = await cursor.to_list()
        return [doc_entry(d) for d in docs]

    async def chain(self, project: str, *, after_index: int, first: int) -> list[AuditEntry]:
        with unavailable("reading the audit chain"):
            docs = (
                await self._audit.find(
                    {"project": project, "chain_index": {"$gt": after_index}}, _FIELDS
                )
                .sort([("chain_index", ASCENDING), ("seq", ASCENDING)])
                .limit(first)
                .to_list()
            )
        return [doc_entry(d) for d in docs]

    async def first_index_at(self, project: str, at_us: int) -> int | None:
        with unavailable("reading the audit chain"):
            docs = (
                await self._audit.find(
                    {"project": project, "us": {"$gte": at_us}}, {"_id": 0, "chain_index": 1}
                )
                .sort("chain_index", ASCENDING)
                .limit(1)
                .to_list()
            )
        return int(docs[0]["chain_index"]) if docs else None

    async def head(self, project: str) -> AuditEntry | None:
        with unavailable("reading the audit chain"):
            docs = (
                await self._audit.find({"project": project}, _FIELDS)
                .sort([("chain_index", DESCENDING), ("seq", DESCENDING)])
                .limit(1)
                .to_list()
            )
        return doc_entry(docs[0]) if docs else None

    async def projects(self) -> list[str]:
        with unavailable("listing audited projects"):
            names = await self._audit.distinct("project")
        return sorted(str(n) for n in names if n)
