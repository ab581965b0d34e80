"""AnalyticsJobStore on MongoDB: a job is one document, its result items one document each.

Every change a runner makes is a single-document `find_one_and_update` whose filter names
the state and the attempt (a compare-and-set), so of two processes only one matches.
Items are JSON text, so any tag key (dots, dollars) is stored as it came.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from domain.analytics.model import AnalyticsInput, AnalyticsJob, JobState
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import Item, StoredItem
from domain.paging import Page
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["ANALYTICS_INDEXES", "MongoAnalyticsJobStore"]

Database = AsyncDatabase[dict[str, Any]]

JOBS = "analytics_jobs"  # {_id: id, project, kind, state, input: JSON text, ...}
RESULTS = "analytics_results"  # {_id: "<job>:<attempt>:<seq>", job_id, attempt, seq, doc}

ANALYTICS_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    JOBS: [
        ([("project", ASCENDING), ("created_us", DESCENDING), ("_id", DESCENDING)], {}),
        ([("state", ASCENDING), ("created_us", ASCENDING)], {}),
        ([("expires_us", ASCENDING)], {}),
    ],
    RESULTS: [([("job_id", ASCENDING), ("attempt", ASCENDING), ("seq", ASCENDING)], {})],
}
_ACTIVE = [JobState.QUEUED.value, JobState.RUNNING.value]
# A 1,000-series FORECAST job's items are 132 MB of JSON: inserted in runs of this size.
_RUN_BYTES = 1 << 20


def _doc(job: AnalyticsJob) -> dict[str, Any]:
    return {
        "_id": job.id,
        "project": job.project,
        "kind": job.kind.value,
        "state": job.state.value,
        "input": json.dumps(job.input.to_dict(), separators=(",", ":")),
        "created_us": job.created_us,
        "created_by": job.created_by,
        "timeout_us": job.timeout_us,
        "progress": job.progress,
        "phase": job.phase,
        "started_us": job.started_us,
        "finished_us": job.finished_us,
        "error": job.error,
        "attempt": job.attempt,
        "owner": job.owner,
        "cancel_requested": job.cancel_requested,
        "expires_us": job.expires_us,
        "result_count": job.result_count,
    }


def _job(doc: dict[str, Any] | None) -> AnalyticsJob | None:
    if doc is None:
        return None
    return AnalyticsJob(
        id=doc["_id"],
        project=doc["project"],
        kind=AnalyticsKind(doc["kind"]),
        input=AnalyticsInput.from_dict(json.loads(doc["input"])),
        created_us=doc["created_us"],
        created_by=doc["created_by"],
        state=JobState(doc["state"]),
        timeout_us=doc["timeout_us"],
        progress=doc["progress"],
        phase=doc["phase"],
        started_us=doc["started_us"],
        finished_us=doc["finished_us"],
        error=doc["error"],
        attempt=doc["attempt"],
        owner=doc["owner"],
        cancel_requested=doc["cancel_requested"],
        expires_us=doc["expires_us"],
        result_count=doc["result_count"],
    )


def _live(now_us: int) -> dict[str, Any]:
    return {"$or": [{"expires_us": None}, {"expires_us": {"$gt": now_us}}]}


class MongoAnalyticsJobStore:
    """The AnalyticsJobStore port (domain.analytics.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._jobs = db.get_collection(JOBS, write_concern=concern)
        self._results = db.get_collection(RESULTS, write_concern=concern)

    async def add_job(self, job: AnalyticsJob) -> None:
        with unavailable("storing an analytics job"):
            await self._jobs.insert_one(_doc(job))

    async def get_job(self, project: str, job_id: str, *, now_us: int) -> AnalyticsJob | None:
        with unavailable("reading an analytics job"):
            doc = await self._jobs.find_one({"_id": job_id, "project": project, **_live(now_us)})
        return _job(doc)

    async def list_jobs(
        self,
        project: str,
        *,
        now_us: int,
        state: JobState | None = None,
        kind: AnalyticsKind | None = None,
        first: int = 20,
        after: tuple[int, str] | None = None,
    ) -> Page[AnalyticsJob]:
        where: dict[str, Any] = {"project": project, **_live(now_us)}
        if state is not None:
            where["state"] = state.value
        if kind is not None:
            where["kind"] = kind.value
        if after is not None:
            at, last = after
            where = {
                "$and": [
                    where,
                    {
                        "$or": [
                            {"created_us": {"$lt": at}},
                            {"created_us": at, "_id": {"$lt": last}},
                        ]
                    },
                ]
            }
        with unavailable("listing analytics jobs"):
            docs = (
                await self._jobs.find(where)
                .sort([("created_us", DESCENDING), ("_id", DESCENDING)])
                .limit(first + 1)
                .to_list()
            )
        jobs = [job for doc in docs if (job := _job(doc)) is not None]
        return Page(jobs[:first], has_next_page=len(jobs) > first)

    async def runnable_jobs(self, *, limit: int) -> list[AnalyticsJob]:
        with unavailable("looking for analytics jobs"):
            docs = (
                await self._jobs.find({"state": {"$in": _ACTIVE}})
                .sort([("created_us", ASCENDING), ("_id", ASCENDING)])
                .limit(limit)
                .to_list()
            )
        return [job for doc in docs if (job := _job(doc)) is not None]

    async def start_job(
        self, project: str, job_id: str, *, attempt: int, owner: str, now_us: int
    ) -> AnalyticsJob | None:
        with unavailable("starting an analytics job"):
            doc = await self._jobs.find_one_and_update(
                {
                    "_id": job_id,
                    "project": project,
                    "state": {"$in": _ACTIVE},
                    "attempt": attempt,
                    "cancel_requested": False,
                },
                {
                    "$set": {
                        "state": JobState.RUNNING.value,
                        "owner": owner,
                        "started_us": now_us,
                        "progress": 0.0,
                        "phase": "reading",
                    },
                    "$inc": {"attempt": 1},
                },
                return_document=ReturnDocument.AFTER,
            )
        return _job(doc)

    async def update_progress(
        self, project: str, job_id: str, *, attempt: int, progress: float, phase: str
    ) -> AnalyticsJob | None:
        with unavailable("recording analytics progress"):
            doc = await self._jobs.find_one_and_update(
                {"_id": job_id, "project": project, "state": "RUNNING", "attempt": attempt},
                {"$set": {"progress": progress, "phase": phase}},
                return_document=ReturnDocument.AFTER,
            )
        return _job(doc)

    async def request_cancel(
        self, project: str, job_id: str, *, now_us: int, ttl_us: int
    ) -> AnalyticsJob | None:
        where = {"_id": job_id, "project": project}
        with unavailable("cancelling an analytics job"):
            await self._jobs.update_one(
                {**where, "state": JobState.QUEUED.value},
                {
                    "$set": {
                        "state": JobState.CANCELLED.value,
                        "finished_us": now_us,
                        "phase": "cancelled",
                        "expires_us": now_us + ttl_us,
                    }
                },
            )
            await self._jobs.update_one(
                {**where, "state": JobState.RUNNING.value}, {"$set": {"cancel_requested": True}}
            )
            doc = await self._jobs.find_one(where)
        return _job(doc)

    async def save_results(
        self, project: str, job_id: str, attempt: int, items: Sequence[StoredItem]
    ) -> None:
        with unavailable("storing an analytics result"):
            await self._results.delete_many({"job_id": job_id, "attempt": attempt})
            seq = 0
            for run in _runs(items):  # ~1 MB at a time: bounded memory, requests served between
                docs = [
                    {
                        "_id": f"{job_id}:{attempt}:{seq + i}",
                        "job_id": job_id,
                        "attempt": attempt,
                        "seq": seq + i,
                        "doc": doc.decode(),
                    }
                    for i, doc in enumerate(run)
                ]
                await self._results.insert_many(docs, ordered=False)
                seq += len(run)

    async def finish_job(self, job: AnalyticsJob) -> bool:
        with unavailable("finishing an analytics job"):
            done = await self._jobs.update_one(
                {"_id": job.id, "project": job.project, "state": "RUNNING", "attempt": job.attempt},
                {
                    "$set": {
                        "state": job.state.value,
                        "finished_us": job.finished_us,
                        "error": job.error,
                        "phase": job.phase,
                        "progress": job.progress,
                        "expires_us": job.expires_us,
                        "result_count": job.result_count,
                    }
                },
            )
            if done.matched_count:
                await self._results.delete_many({"job_id": job.id, "attempt": {"$ne": job.attempt}})
        return bool(done.matched_count)

    async def get_results(
        self, project: str, job_id: str, attempt: int, *, offset: int, limit: int
    ) -> list[Item]:
        with unavailable("reading an analytics result"):
            if await self._jobs.find_one({"_id": job_id, "project": project}, {"_id": 1}) is None:
                return []
            docs = (
                await self._results.find(
                    {"job_id": job_id, "attempt": attempt, "seq": {"$gte": offset}}
                )
                .sort([("seq", ASCENDING)])
                .limit(limit)
                .to_list()
            )
        return [orjson.loads(doc["doc"]) for doc in docs]

    async def purge_expired(self, now_us: int) -> int:
        where = {"expires_us": {"$ne": None, "$lte": now_us}}
        with unavailable("deleting expired analytics jobs"):
            expired = [doc["_id"] for doc in await self._jobs.find(where, {"_id": 1}).to_list()]
            if not expired:
                return 0
            await self._results.delete_many({"job_id": {"$in": expired}})
            done = await self._jobs.delete_many({"_id": {"$in": expired}})
        return int(done.deleted_count)


def _runs(items: Sequence[StoredItem]) -> Iterator[list[bytes]]:
    """The items' JSON in order, in runs of at most _RUN_BYTES (or one item)."""
    run: list[bytes] = []
    size = 0
    for item in items:
        if run and size + len(item.json) > _RUN_BYTES:
            yield run
            run, size = [], 0
        run.append(item.json)
        size += len(item.json)
    if run:
        yield run
