"""ReportSlotStore on MongoDB: one document per (project, report, slot), keyed by `_id`.

A claim is an insert (the unique `_id` lets one instance win) or the take-over of a lapsed
unfinished claim (one conditional update); only the claimant finishes it.
"""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.reports.slots import SlotClaim
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["REPORT_SLOT_INDEXES", "MongoReportSlotStore"]

Database = AsyncDatabase[dict[str, Any]]

SLOTS = "report_slots"  # {_id: JSON [project, report, slot], project, report_id, slot_us, ...}

REPORT_SLOT_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    SLOTS: [
        ([("project", ASCENDING), ("report_id", ASCENDING), ("slot_us", DESCENDING)], {}),
        ([("finished_us", ASCENDING), ("claim_until_us", ASCENDING)], {}),
    ],
}


def _key(claim: SlotClaim) -> str:
    return json.dumps([claim.project, claim.report_id, claim.slot_us], separators=(",", ":"))


class MongoReportSlotStore:
    """The ReportSlotStore port (domain.reports.slots) on MongoDB."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._slots = db.get_collection(SLOTS, write_concern=concern)

    async def claim_slot(self, claim: SlotClaim, *, until_us: int) -> bool:
        fields = {"owner": claim.owner, "claim_until_us": until_us, "doc": claim.to_dict()}
        with unavailable("claiming a report slot"):
            try:
                await self._slots.insert_one(
                    {
                        "_id": _key(claim),
                        "project": claim.project,
                        "report_id": claim.report_id,
                        "slot_us": claim.slot_us,
                        "finished_us": None,
                        **fields,
                    }
                )
                return True
            except DuplicateKeyError:
                pass
            taken = await self._slots.update_one(
                {
                    "_id": _key(claim),
                    "finished_us": None,
                    "claim_until_us": {"$lte": claim.claimed_us},
                },
                {"$set": fields},
            )
        return bool(taken.matched_count)

    async def finish_slot(self, claim: SlotClaim) -> bool:
        finished = claim.finished_us or claim.claimed_us
        with unavailable("finishing a report slot"):
            done = await self._slots.update_one(
                {"_id": _key(claim), "owner": claim.owner, "finished_us": None},
                {"$set": {"finished_us": finished, "doc": claim.to_dict()}},
            )
        return bool(done.matched_count)

    async def last_slot(self, project: str, report_id: str) -> int | None:
        with unavailable("reading report slots"):
            doc = await self._slots.find_one(
                {"project": project, "report_id": report_id},
                sort=[("slot_us", DESCENDING)],
                projection={"slot_us": 1},
            )
        return int(doc["slot_us"]) if doc is not None else None

    async def last_slots(self) -> dict[tuple[str, str], int]:
        with unavailable("reading report slots"):
            groups = await (
                await self._slots.aggregate(
                    [
                        {
                            "$group": {
                                "_id": {"p": "$project", "r": "$report_id"},
                                "last": {"$max": "$slot_us"},
                            }
                        }
                    ]
                )
            ).to_list()
        return {(g["_id"]["p"], g["_id"]["r"]): int(g["last"]) for g in groups}

    async def lapsed_slots(self, now_us: int, *, first: int = 100) -> list[SlotClaim]:
        with unavailable("reading report slots"):
            docs = (
                await self._slots.find({"finished_us": None, "claim_until_us": {"$lte": now_us}})
                .sort([("slot_us", ASCENDING), ("_id", ASCENDING)])
                .limit(first)
                .to_list()
            )
        return [SlotClaim.from_dict(d["doc"]) for d in docs]

    async def slot_claims(self, project: str, report_id: str, *, first: int) -> list[SlotClaim]:
        with unavailable("reading report slots"):
            docs = (
                await self._slots.find({"project": project, "report_id": report_id})
                .sort([("slot_us", DESCENDING)])
                .limit(first)
                .to_list()
            )
        return [SlotClaim.from_dict(d["doc"]) for d in docs]

    async def prune_slots(self, before_us: int) -> int:
        pruned = 0
        with unavailable("pruning report slots"):
            newest = await (
                await self._slots.aggregate(
                    [
                        {"$match": {"slot_us": {"$lt": before_us}}},
                        {"$group": {"_id": ["$project", "$report_id"]}},
                    ]
                )
            ).to_list()
            for group in newest:
                project, report_id = group["_id"]
                last = await self.last_slot(project, report_id)
                result = await self._slots.delete_many(
                    {
                        "project": project,
                        "report_id": report_id,
                        "finished_us": {"$ne": None},
                        "slot_us": {"$lt": min(before_us, last or before_us)},
                    }
                )
                pruned += int(result.deleted_count)
        return pruned

    async def forget_slots(self, project: str, report_id: str) -> int:
        with unavailable("forgetting report slots"):
            result = await self._slots.delete_many({"project": project, "report_id": report_id})
        return int(result.deleted_count)
