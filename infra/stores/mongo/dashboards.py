"""DashboardStore on MongoDB: the current dashboards and every saved version.

A new dashboard is an `insert_one` (the `_id` names project and id, so a taken id fails),
a change is a `replace_one` whose filter names the expected version; the saved version
goes to the history in the same transaction (transactions.py), so another instance sees
a dashboard and its history together. A delete takes both in one transaction too.
"""

from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.dashboards.dashboard import Dashboard
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import DASHBOARD_VERSIONS, DASHBOARDS, Database
from infra.stores.mongo.transactions import Session, in_transaction

__all__ = ["MongoDashboardStore"]

_DOC = {"_id": 0, "doc": 1}


class MongoDashboardStore:
    """The DashboardStore port (domain.dashboards.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._db = db
        self._options = options
        self._current = db.get_collection(DASHBOARDS, write_concern=concern)
        self._versions = db.get_collection(DASHBOARD_VERSIONS, write_concern=concern)

    async def save_dashboard(
        self, dashboard: Dashboard, *, expected_version: int | None = None
    ) -> bool:
        doc = dashboard.to_dict()
        row = {
            "_id": _key(dashboard.project, dashboard.id),
            "project": dashboard.project,
            "id": dashboard.id,
            "created_at_us": dashboard.created_at_us,
            "version": dashboard.version,
            "doc": doc,
        }
        version_id = _key(dashboard.project, dashboard.id, dashboard.version)
        version = {
            "project": dashboard.project,
            "id": dashboard.id,
            "version": dashboard.version,
            "doc": doc,
        }

        async def save(session: Session) -> bool:
            if expected_version is None:
                # A taken id fails here, which aborts the transaction (caught below).
                await self._current.insert_one(row, session=session)
            else:
                where = {"_id": row["_id"], "version": expected_version}
                replaced = await self._current.replace_one(where, row, session=session)
                if not replaced.matched_count:
                    return False
            await self._versions.replace_one(
                {"_id": version_id}, version, upsert=True, session=session
            )
            return True

        with unavailable("saving a dashboard"):
            try:
                return await in_transaction(self._db, self._options, save)
            except DuplicateKeyError:
                return False

    async def get_dashboard(self, project: str, dashboard_id: str) -> Dashboard | None:
        with unavailable("reading a dashboard"):
            row = await self._current.find_one({"_id": _key(project, dashboard_id)}, _DOC)
        return None if row is None else Dashboard.from_dict(row["doc"])

    async def list_dashboards(self, project: str) -> list[Dashboard]:
        order = [("created_at_us", ASCENDING), ("id", ASCENDING)]
        with unavailable("listing dashboards"):
            rows = await self._current.find({"project": project}, _DOC).sort(order).to_list()
        return [Dashboard.from_dict(row["doc"]) for row in rows]

    async def delete_dashboard(self, project: str, dashboard_id: str) -> bool:
        async def delete(session: Session) -> bool:
            result = await self._current.delete_one(
                {"_id": _key(project, dashboard_id)}, session=session
            )
            await self._versions.delete_many(
                {"project": project, "id": dashboard_id}, session=session
            )
            return bool(result.deleted_count)

        with unavailable("deleting a dashboard"):
            return await in_transaction(self._db, self._options, delete)

    async def list_versions(
        self, project: str, dashboard_id: str, *, first: int = 100
    ) -> list[Dashboard]:
        if first <= 0:
            return []
        where = {"project": project, "id": dashboard_id}
        with unavailable("listing dashboard versions"):
            cursor = self._versions.find(where, _DOC).sort([("version", DESCENDING)])
            rows = await cursor.limit(first).to_list()
        return [Dashboard.from_dict(row["doc"]) for row in rows]

    async def get_version(self, project: str, dashboard_id: str, version: int) -> Dashboard | None:
        with unavailable("reading a dashboard version"):
            row = await self._versions.find_one({"_id": _key(project, dashboard_id, version)}, _DOC)
        return None if row is None else Dashboard.from_dict(row["doc"])


def _key(*parts: Any) -> str:
    """Exact and unambiguous for any project and id (JSON text), unlike a joined string."""
    return json.dumps(list(parts), separators=(",", ":"))
