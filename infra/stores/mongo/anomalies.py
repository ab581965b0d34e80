"""AnomalyStore on MongoDB: detections, detector states, anomalies and band rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.records import AnomalyRecord, BandRow
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["ANOMALY_INDEXES", "MongoAnomalyStore"]

Database = AsyncDatabase[dict[str, Any]]

DETECTIONS = "anomaly_detections"  # {_id: id, **AnomalyDetection.to_dict()}
DETECTORS = "anomaly_detectors"  # {_id: detector key, placement, state}
# {_id: "project:series:time", project, metric, series_id, ts_us, score, doc: to_dict()}
ANOMALIES = "anomalies"
# {project, metric, series_id, bucket_us, tags, baseline, lower, upper, points}
BANDS = "anomaly_bands"

ANOMALY_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    DETECTIONS: [
        ([("project", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {}),
        ([("enabled", ASCENDING)], {}),
    ],
    DETECTORS: [([("placement", ASCENDING)], {})],
    ANOMALIES: [
        (
            [
                ("project", ASCENDING),
                ("metric", ASCENDING),
                ("ts_us", DESCENDING),
                ("series_id", DESCENDING),
            ],
            {},
        )
    ],
    BANDS: [([("project", ASCENDING), ("metric", ASCENDING), ("bucket_us", ASCENDING)], {})],
}
_DUPLICATE_KEY = 11000


class MongoAnomalyStore:
    """The AnomalyStore port (domain.anomaly.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._detections = db.get_collection(DETECTIONS, write_concern=concern)
        self._detectors = db.get_collection(DETECTORS, write_concern=concern)
        self._anomalies = db.get_collection(ANOMALIES, write_concern=concern)
        self._bands = db.get_collection(BANDS, write_concern=concern)

    async def save_detection(
        self, detection: AnomalyDetection, *, expected_version: int | None = None
    ) -> bool:
        doc = {"_id": detection.id, **detection.to_dict()}
        where: dict[str, Any] = {"_id": detection.id, "project": detection.project}
        with unavailable("saving an anomaly detection"):
            if expected_version is None:
                try:
                    await self._detections.replace_one(where, doc, upsert=True)
                    return True
                except DuplicateKeyError:  # another project's id
                    return False
            where["version"] = expected_version
            result = await self._detections.replace_one(where, doc)
            return bool(result.matched_count)

    async def get_detection(self, project: str, detection_id: str) -> AnomalyDetection | None:
        with unavailable("reading an anomaly detection"):
            doc = await self._detections.find_one({"_id": detection_id, "project": project})
        return None if doc is None else AnomalyDetection.from_dict(doc)

    async def list_detections(self, project: str) -> list[AnomalyDetection]:
        return await self._find({"project": project})

    async def enabled_detections(self) -> list[AnomalyDetection]:
        return await self._find({"enabled": True})

    async def _find(self, where: dict[str, Any]) -> list[AnomalyDetection]:
        with unavailable("listing anomaly detections"):
            cursor = self._detections.find(where).sort(
                [("created_at_us", ASCENDING), ("_id", ASCENDING)]
            )
            docs = await cursor.to_list()
        return [AnomalyDetection.from_dict(d) for d in docs]

    async def save_detector_states(self, states: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        if not states:
            return
        writes = [
            ReplaceOne({"_id": key}, {"placement": placement, "state": state}, upsert=True)
            for key, (placement, state) in states.items()
        ]
        with unavailable("saving detector states"):
            await self._detectors.bulk_write(writes, ordered=False)

    async def load_detector_states(self, placements: Collection[str]) -> dict[str, dict[str, Any]]:
        if not placements:
            return {}
        with unavailable("loading detector states"):
            docs = await self._detectors.find({"placement": {"$in": list(placements)}}).to_list()
        return {d["_id"]: d["state"] for d in docs}

    async def add_anomalies(self, records: list[AnomalyRecord]) -> None:
        if not records:
            return
        docs = {
            f"{r.project}:{r.series_id}:{r.timestamp_us}": {
                "project": r.project,
                "metric": r.metric,
                "series_id": r.series_id,
                "ts_us": r.timestamp_us,
                "score": r.score,
                "doc": r.to_dict(),
            }
            for r in records
        }
        with unavailable("recording anomalies"):
            try:
                await self._anomalies.insert_many(
                    [{"_id": key, **doc} for key, doc in docs.items()], ordered=False
                )
            except BulkWriteError as exc:  # a point recorded again is kept once
                errors = exc.details.get("writeErrors", [])
                if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                    raise

    async def list_anomalies(
        self,
        project: str,
        metric: str,
        *,
        start_us: int,
        end_us: int,
        min_score: float,
        before: tuple[int, int] | None,
        first: int,
    ) -> list[AnomalyRecord]:
        where: dict[str, Any] = {
            "project": project,
            "metric": metric,
            "ts_us": {"$gte": start_us, "$lt": end_us},
            "score": {"$gte": min_score},
        }
        if before is not None:
            where["$or"] = [
                {"ts_us": {"$lt": before[0]}},
                {"ts_us": before[0], "series_id": {"$lt": before[1]}},
            ]
        with unavailable("listing anomalies"):
            cursor = self._anomalies.find(where, {"doc": 1})
            docs = (
                await cursor.sort([("ts_us", DESCENDING), ("series_id", DESCENDING)])
                .limit(first)
                .to_list()
            )
        return [AnomalyRecord.from_dict(d["doc"]) for d in docs]

    async def add_band_rows(self, rows: list[BandRow]) -> None:
        if not rows:
            return
        docs = [
            {
                "project": r.project,
                "metric": r.metric,
                "series_id": r.series_id,
                "bucket_us": r.bucket_us,
                "tags": dict(r.tags),
                "baseline": r.baseline,
                "lower": r.lower,
                "upper": r.upper,
                "points": r.points,
            }
            for r in rows
        ]
        with unavailable("recording anomaly bands"):
            await self._bands.insert_many(docs, ordered=False)

    async def band_rows(
        self, project: str, metric: str, *, start_us: int, end_us: int
    ) -> list[BandRow]:
        where = {
            "project": project,
            "metric": metric,
            "bucket_us": {"$gte": start_us, "$lt": end_us},
        }
        with unavailable("reading anomaly bands"):
            cursor = self._bands.find(where, {"_id": 0})
            docs = await cursor.sort([("bucket_us", ASCENDING), ("series_id", ASCENDING)]).to_list()
        return [
            BandRow(
                project,
                metric,
                d["series_id"],
                d["tags"],
                d["bucket_us"],
                d["baseline"],
                d["lower"],
                d["upper"],
                d["points"],
            )
            for d in docs
        ]

    async def prune(self, before_us: int) -> None:
        with unavailable("pruning anomalies"):
            await self._anomalies.delete_many({"ts_us": {"$lt": before_us}})
            await self._bands.delete_many({"bucket_us": {"$lt": before_us}})
