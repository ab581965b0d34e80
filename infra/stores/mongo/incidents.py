"""IncidentStore on MongoDB: one document per incident, compare-and-set on its version."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.incidents.model import Incident, IncidentSettings, IncidentState
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions

__all__ = ["INCIDENT_INDEXES", "MongoIncidentStore"]

Database = AsyncDatabase[dict[str, Any]]

INCIDENTS = "incidents"  # {_id: id, project, state, opened_us, version, doc: to_dict()}
INCIDENT_SETTINGS = "incident_settings"  # {_id: project, doc: IncidentSettings.to_dict()}

INCIDENT_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    INCIDENTS: [
        ([("project", ASCENDING), ("opened_us", DESCENDING), ("_id", DESCENDING)], {}),
        ([("project", ASCENDING), ("state", ASCENDING)], {}),
    ],
}
_NEWEST_FIRST = [("opened_us", DESCENDING), ("_id", DESCENDING)]


class MongoIncidentStore:
    """The IncidentStore port (domain.incidents.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._incidents = db.get_collection(INCIDENTS, write_concern=concern)
        self._settings = db.get_collection(INCIDENT_SETTINGS, write_concern=concern)

    async def save_incident(self, incident: Incident, *, expected_version: int | None) -> bool:
        doc = {
            "_id": incident.id,
            "project": incident.project,
            "state": incident.state.value,
            "opened_us": incident.opened_us,
            "version": incident.version,
            "doc": incident.to_dict(),
        }
        with unavailable("saving an incident"):
            if expected_version is None:
                try:
                    await self._incidents.insert_one(doc)
                    return True
                except DuplicateKeyError:
                    return False
            result = await self._incidents.replace_one(
                {"_id": incident.id, "project": incident.project, "version": expected_version},
                doc,
            )
            return bool(result.matched_count)

    async def get_incident(self, project: str, incident_id: str) -> Incident | None:
        with unavailable("reading an incident"):
            doc = await self._incidents.find_one({"_id": incident_id, "project": project})
        return None if doc is None else Incident.from_dict(doc["doc"])

    async def list_incidents(
        self,
        project: str,
        *,
        state: IncidentState | None = None,
        before: tuple[int, str] | None = None,
        first: int = 100,
    ) -> list[Incident]:
        where: dict[str, Any] = {"project": project}
        if state is not None:
            where["state"] = state.value
        if before is not None:
            where["$or"] = [
                {"opened_us": {"$lt": before[0]}},
                {"opened_us": before[0], "_id": {"$lt": before[1]}},
            ]
        with unavailable("listing incidents"):
            docs = await self._incidents.find(where).sort(_NEWEST_FIRST).limit(first).to_list()
        return [Incident.from_dict(d["doc"]) for d in docs]

    async def open_incidents(self, project: str) -> list[Incident]:
        with unavailable("listing open incidents"):
            cursor = self._incidents.find({"project": project, "state": {"$ne": "resolved"}})
            docs = await cursor.sort(_NEWEST_FIRST).to_list()
        return [Incident.from_dict(d["doc"]) for d in docs]

    async def get_incident_settings(self, project: str) -> IncidentSettings | None:
        with unavailable("reading incident settings"):
            doc = await self._settings.find_one({"_id": project})
        return None if doc is None else IncidentSettings.from_dict(doc["doc"])

    async def save_incident_settings(self, project: str, settings: IncidentSettings) -> None:
        with unavailable("saving incident settings"):
            await self._settings.replace_one(
                {"_id": project}, {"doc": settings.to_dict()}, upsert=True
            )
