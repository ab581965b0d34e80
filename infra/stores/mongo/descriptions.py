"""Metric descriptions on MongoDB: one document per (project, name), replaced when it changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.write_concern import WriteConcern

from domain.metrics.model import MetricDescription, MetricType
from infra.stores.mongo.dates import now
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import DESCRIPTIONS, Database

__all__ = ["MongoDescriptions"]

_FIELDS = {"_id": 0, "n": 1, "type": 1, "help": 1, "unit": 1}


class MongoDescriptions:
    """Several instances may write: what this one wrote is remembered to skip rewriting
    the same description (Prometheus resends its metadata every minute), and a change
    from any instance is an upsert that replaces the whole description."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._collection = db.get_collection(DESCRIPTIONS, write_concern=concern)
        self._written: dict[tuple[str, str], MetricDescription] = {}

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        changed = [d for d in descriptions if self._written.get((project, d.name)) != d]
        if not changed:
            return
        at = now()
        writes = [
            UpdateOne(
                {"p": project, "n": d.name},
                {
                    "$set": {
                        "type": d.type.value if d.type is not None else "",
                        "help": d.help,
                        "unit": d.unit,
                        "at": at,
                    }
                },
                upsert=True,
            )
            for d in changed
        ]
        with unavailable("storing metric descriptions"):
            await self._collection.bulk_write(writes, ordered=False)
        for description in changed:
            self._written[project, description.name] = description

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        query: dict[str, Any] = {"p": project}
        if prefix:
            query["n"] = {"$regex": "^" + re.escape(prefix)}
        with unavailable("reading metric descriptions"):
            cursor = self._collection.find(query, _FIELDS).sort("n", 1).limit(max(limit, 0))
            docs = await cursor.to_list()
        return [
            MetricDescription(
                d["n"], MetricType(d["type"]) if d["type"] else None, d["help"], d["unit"]
            )
            for d in docs
        ]
