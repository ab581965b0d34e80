"""ReportStore and ArtefactStore on MongoDB.

Definitions and runs are one document each. A run's files are a GridFS bucket,
`report_files` (`report_files.files` and `report_files.chunks`, the fields of the GridFS
specification, 255 KiB chunks), so `AsyncGridFSBucket(db, "report_files")` and
`mongofiles --prefix report_files` read them; this adapter writes them itself rather
than through the bucket class, which needs a real `AsyncDatabase` that the contract
suite's emulator is not (docs/decisions/0031-report-artefacts-on-mongodb.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.reports.document import Artefact
from domain.reports.model import Report, ReportRun
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["CHUNK_BYTES", "REPORT_INDEXES", "MongoArtefactStore", "MongoReportStore"]

Database = AsyncDatabase[dict[str, Any]]

REPORTS = "reports"  # {_id: [project, id] as text, project, id, created_at_us, version, doc}
REPORT_RUNS = "report_runs"  # {_id: run id, project, report_id, started_us, doc}
BUCKET = "report_files"  # a GridFS bucket
# {_id: [project, run, name] as text, length, chunkSize, uploadDate, filename,
#  metadata: {project, run_id, media_type}}
REPORT_FILES = f"{BUCKET}.files"
REPORT_CHUNKS = f"{BUCKET}.chunks"  # {files_id, n, data: bytes}
CHUNK_BYTES = 255 * 1024  # GridFS's default chunk size: far below the 16 MiB document limit

REPORT_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    REPORTS: [([("project", ASCENDING), ("created_at_us", ASCENDING), ("id", ASCENDING)], {})],
    REPORT_RUNS: [
        ([("project", ASCENDING), ("report_id", ASCENDING), ("started_us", DESCENDING)], {})
    ],
    REPORT_FILES: [
        ([("metadata.project", ASCENDING), ("metadata.run_id", ASCENDING)], {}),
        ([("filename", ASCENDING), ("uploadDate", ASCENDING)], {}),  # GridFS's own
    ],
    REPORT_CHUNKS: [([("files_id", ASCENDING), ("n", ASCENDING)], {"unique": True})],
}


def _key(*parts: str) -> str:
    return "\x1f".join(parts)


class MongoReportStore:
    """The ReportStore port (domain.reports.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._reports = db.get_collection(REPORTS, write_concern=concern)
        self._runs = db.get_collection(REPORT_RUNS, write_concern=concern)

    async def save_report(self, report: Report, *, expected_version: int | None = None) -> bool:
        row = {
            "_id": _key(report.project, report.id),
            "project": report.project,
            "id": report.id,
            "created_at_us": report.created_at_us,
            "version": report.version,
            "doc": report.to_dict(),
        }
        with unavailable("saving a report"):
            if expected_version is None:
                try:
                    await self._reports.insert_one(row)
                except DuplicateKeyError:
                    return False
                return True
            where = {"_id": row["_id"], "version": expected_version}
            return bool((await self._reports.replace_one(where, row)).matched_count)

    async def get_report(self, project: str, report_id: str) -> Report | None:
        with unavailable("reading a report"):
            row = await self._reports.find_one({"_id": _key(project, report_id)})
        return None if row is None else Report.from_dict(row["doc"])

    async def list_reports(self, project: str | None = None) -> list[Report]:
        where = {} if project is None else {"project": project}
        with unavailable("listing reports"):
            rows = (
                await self._reports.find(where)
                .sort([("created_at_us", ASCENDING), ("id", ASCENDING)])
                .to_list()
            )
        return [Report.from_dict(r["doc"]) for r in rows]

    async def delete_report(self, project: str, report_id: str) -> bool:
        with unavailable("deleting a report"):
            deleted = await self._reports.delete_one({"_id": _key(project, report_id)})
            await self._runs.delete_many({"project": project, "report_id": report_id})
        return bool(deleted.deleted_count)

    async def save_run(self, run: ReportRun) -> None:
        row = {
            "_id": run.id,
            "project": run.project,
            "report_id": run.report_id,
            "started_us": run.started_us,
            "doc": run.to_dict(),
        }
        with unavailable("saving a report run"):
            await self._runs.replace_one({"_id": run.id}, row, upsert=True)

    async def get_run(self, project: str, run_id: str) -> ReportRun | None:
        with unavailable("reading a report run"):
            row = await self._runs.find_one({"_id": run_id, "project": project})
        return None if row is None else ReportRun.from_dict(row["doc"])

    async def get_run_by_id(self, run_id: str) -> ReportRun | None:
        with unavailable("reading a report run"):
            row = await self._runs.find_one({"_id": run_id})
        return None if row is None else ReportRun.from_dict(row["doc"])

    async def list_runs(self, project: str, report_id: str) -> list[ReportRun]:
        with unavailable("listing report runs"):
            rows = (
                await self._runs.find({"project": project, "report_id": report_id})
                .sort([("started_us", DESCENDING), ("_id", DESCENDING)])
                .to_list()
            )
        return [ReportRun.from_dict(r["doc"]) for r in rows]


class MongoArtefactStore:
    """The ArtefactStore port on the production store: files in chunks, GridFS's layout.

    A file's document is written after its chunks, so a reader never finds a file whose
    chunks are missing; a rewrite of the same name replaces the chunks first."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._files = db.get_collection(REPORT_FILES, write_concern=concern)
        self._chunks = db.get_collection(REPORT_CHUNKS, write_concern=concern)

    async def put_artefacts(self, project: str, run_id: str, artefacts: list[Artefact]) -> None:
        with unavailable("storing report files"):
            for artefact in artefacts:
                file_id = _key(project, run_id, artefact.name)
                await self._chunks.delete_many({"files_id": file_id})
                content = artefact.content
                chunks = [
                    {"files_id": file_id, "n": n, "data": content[at : at + CHUNK_BYTES]}
                    for n, at in enumerate(range(0, len(content), CHUNK_BYTES))
                ]
                if chunks:
                    await self._chunks.insert_many(chunks)
                await self._files.replace_one(
                    {"_id": file_id},
                    {
                        "_id": file_id,
                        "length": len(content),
                        "chunkSize": CHUNK_BYTES,
                        "uploadDate": datetime.now(UTC),
                        "filename": artefact.name,
                        "metadata": {
                            "project": project,
                            "run_id": run_id,
                            "media_type": artefact.media_type,
                        },
                    },
                    upsert=True,
                )

    async def get_artefact(self, project: str, run_id: str, name: str) -> Artefact | None:
        file_id = _key(project, run_id, name)
        with unavailable("reading a report file"):
            meta = await self._files.find_one({"_id": file_id})
            if meta is None:
                return None
            chunks = await self._chunks.find({"files_id": file_id}).sort("n", ASCENDING).to_list()
        content = b"".join(bytes(c["data"]) for c in chunks)
        expected = -(-meta["length"] // meta["chunkSize"])
        if len(chunks) != expected or len(content) != meta["length"]:
            return None  # being replaced or removed now
        return Artefact(name, meta["metadata"]["media_type"], content)

    async def delete_artefacts(self, project: str, run_ids: list[str]) -> int:
        if not run_ids:
            return 0
        with unavailable("removing report files"):
            files = await self._files.find(
                {"metadata.project": project, "metadata.run_id": {"$in": run_ids}}, {"_id": 1}
            ).to_list()
            ids = [f["_id"] for f in files]
            if not ids:
                return 0
            await self._files.delete_many({"_id": {"$in": ids}})
            await self._chunks.delete_many({"files_id": {"$in": ids}})
        return len(ids)
