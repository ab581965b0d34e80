"""AuditStore on MongoDB: entries numbered by an atomic counter, listed by that number."""

from __future__ import annotations

import json
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.write_concern import WriteConcern

from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.mongo.dates import date_of_us
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import AUDIT, COUNTERS, Database

__all__ = ["MongoAuditStore"]

_FIELDS = {"_id": 0, "ts": 0}


class MongoAuditStore:
    """`seq` comes from `$inc` on one counter document, so it only grows, in every
    instance and across restarts. Two entries recorded at once may become visible out
    of `seq` order for the moment between their two writes."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._audit = db.get_collection(AUDIT, write_concern=concern)
        self._counters = db.get_collection(COUNTERS, write_concern=concern)

    async def record(self, entry: AuditEntry) -> None:
        with unavailable("recording an audit entry"):
            counter = await self._counters.find_one_and_update(
                {"_id": AUDIT},
                {"$inc": {"n": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            assert counter is not None  # upsert=True with ReturnDocument.AFTER
            await self._audit.insert_one(
                {
                    "seq": int(counter["n"]),
                    "actor": entry.actor,
                    "action": entry.action,
                    "project": entry.project,
                    "outcome": entry.outcome,
                    "ts": date_of_us(entry.timestamp_us),
                    "us": entry.timestamp_us,
                    "request_id": entry.request_id,
                    # JSON text, as in the DuckDB store: any key and any value goes.
                    "detail": json.dumps(entry.detail, separators=(",", ":"), default=str),
                }
            )

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
        return [
            AuditEntry(
                actor=d["actor"],
                action=d["action"],
                project=d["project"],
                outcome=d["outcome"],
                timestamp_us=d["us"],
                request_id=d["request_id"],
                detail=json.loads(d["detail"]),
                seq=d["seq"],
            )
            for d in docs
        ]
