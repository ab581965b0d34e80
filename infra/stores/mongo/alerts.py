"""AlertStore on MongoDB: alerts, instance states and transitions.

Every decision another Vigil instance could race is one single-document operation: a
compare-and-set is a `replace_one` whose filter names the expected version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.alerting.alert import Alert
from domain.alerting.model import InstanceKey, Transition
from domain.alerting.state import InstanceState
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import (
    ALERT_INSTANCES,
    ALERT_TRANSITIONS,
    ALERTS,
    COUNTERS,
    Database,
)
from infra.stores.mongo.transactions import Session, in_transaction

__all__ = ["MongoAlertStore"]

_NO_ID = {"_id": 0}
_TRANSITION_FIELDS = {"_id": 0, "alert_id": 0, "seq": 0}
_OLDEST_FIRST = [("created_at_us", ASCENDING), ("_id", ASCENDING)]
_NEWEST_FIRST = [("at_us", DESCENDING), ("seq", DESCENDING)]


class MongoAlertStore:
    """The AlertStore port (domain.alerting.ports) on the production store.

    Deleting an alert and saving an evaluator's changes are one transaction each
    (transactions.py): another instance sees all of it or none of it.
    """

    def __init__(self, db: Database, options: MongoOptions) -> None:
        self._db = db
        self._options = options
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._alerts = db.get_collection(ALERTS, write_concern=concern)
        self._instances = db.get_collection(ALERT_INSTANCES, write_concern=concern)
        self._transitions = db.get_collection(ALERT_TRANSITIONS, write_concern=concern)
        self._counters = db.get_collection(COUNTERS, write_concern=concern)

    # -- alerts ------------------------------------------------------------------------------

    async def save_alert(self, alert: Alert, *, expected_version: int | None = None) -> bool:
        doc = {"_id": alert.id, **alert.to_dict()}
        # The project is in every filter: an alert of another project is never replaced.
        where: dict[str, Any] = {"_id": alert.id, "project": alert.project}
        with unavailable("saving an alert"):
            if expected_version is None:
                try:
                    await self._alerts.replace_one(where, doc, upsert=True)
                    return True
                except DuplicateKeyError:
                    # The id is taken: by another project (the replace below matches
                    # nothing), or by a racing insert of this project (it replaces that).
                    result = await self._alerts.replace_one(where, doc)
                    return bool(result.matched_count)
            where["version"] = expected_version
            result = await self._alerts.replace_one(where, doc)
            return bool(result.matched_count)

    async def get_alert(self, project: str, alert_id: str) -> Alert | None:
        with unavailable("reading an alert"):
            doc = await self._alerts.find_one({"_id": alert_id, "project": project}, _NO_ID)
        return None if doc is None else Alert.from_dict(doc)

    async def list_alerts(
        self, project: str, *, after: str | None = None, first: int | None = None
    ) -> list[Alert]:
        where: dict[str, Any] = {"project": project}
        with unavailable("listing alerts"):
            if after is not None:
                last = await self._alerts.find_one(
                    {"_id": after, "project": project}, {"created_at_us": 1}
                )
                if last is None:
                    return []
                since = last["created_at_us"]
                where["$or"] = [
                    {"created_at_us": {"$gt": since}},
                    {"created_at_us": since, "_id": {"$gt": after}},
                ]
            cursor = self._alerts.find(where, _NO_ID).sort(_OLDEST_FIRST)
            if first is not None:
                cursor = cursor.limit(first)
            docs = await cursor.to_list()
        return [Alert.from_dict(doc) for doc in docs]

    async def enabled_alerts(self) -> list[Alert]:
        with unavailable("listing enabled alerts"):
            docs = await self._alerts.find({"enabled": True}, _NO_ID).sort(_OLDEST_FIRST).to_list()
        return [Alert.from_dict(doc) for doc in docs]

    async def delete_alert(self, project: str, alert_id: str) -> bool:
        async def delete(session: Session) -> bool:
            result = await self._alerts.delete_one(
                {"_id": alert_id, "project": project}, session=session
            )
            if not result.deleted_count:  # none, or another project's: nothing else goes
                return False
            await self._instances.delete_many({"alert_id": alert_id}, session=session)
            await self._transitions.delete_many({"alert_id": alert_id}, session=session)
            return True

        with unavailable("deleting an alert"):
            return await in_transaction(self._db, self._options, delete)

    # -- instances and transitions -----------------------------------------------------------

    async def save_instances(self, alert_id: str, states: list[InstanceState]) -> None:
        if not states:
            return
        writes = [
            ReplaceOne(
                {"_id": _instance_id(alert_id, state.key)},
                {"alert_id": alert_id, "state": state.to_dict()},
                upsert=True,
            )
            for state in states
        ]
        with unavailable("saving alert instances"):
            # Ordered: of two states of the same key, the last one given stays.
            await self._instances.bulk_write(writes, ordered=True)

    async def load_instances(self, alert_id: str) -> list[InstanceState]:
        with unavailable("loading alert instances"):
            cursor = self._instances.find({"alert_id": alert_id}, {"_id": 0, "state": 1})
            docs = await cursor.sort("_id", ASCENDING).to_list()
        return [InstanceState.from_dict(doc["state"]) for doc in docs]

    async def append_transitions(self, alert_id: str, transitions: list[Transition]) -> None:
        if transitions:
            await self._record([(alert_id, t) for t in transitions])

    async def save_changes(
        self, changes: Mapping[str, tuple[list[InstanceState], list[Transition]]]
    ) -> None:
        """One transaction: every state, one counter step and every transition."""
        writes = [
            ReplaceOne(
                {"_id": _instance_id(alert_id, state.key)},
                {"alert_id": alert_id, "state": state.to_dict()},
                upsert=True,
            )
            for alert_id, (states, _) in changes.items()
            for state in states
        ]
        recorded = [(alert_id, t) for alert_id, (_, ts) in changes.items() for t in ts]
        if not writes and not recorded:
            return

        async def save(session: Session) -> None:
            if writes:
                await self._instances.bulk_write(writes, ordered=True, session=session)
            if recorded:
                await self._insert_transitions(recorded, session)

        with unavailable("saving alert changes"):
            await in_transaction(self._db, self._options, save)

    async def list_transitions(
        self, project: str, alert_id: str, *, first: int = 100, before_us: int | None = None
    ) -> list[Transition]:
        """Newest first; of transitions at the same microsecond, the last recorded first."""
        if first <= 0:
            return []
        where: dict[str, Any] = {"alert_id": alert_id}
        if before_us is not None:
            where["at_us"] = {"$lt": before_us}
        with unavailable("listing alert transitions"):
            if not await self._owned(project, alert_id):
                return []
            cursor = self._transitions.find(where, _TRANSITION_FIELDS)
            docs = await cursor.sort(_NEWEST_FIRST).limit(first).to_list()
        return [Transition.from_dict(doc) for doc in docs]

    # -- helpers -----------------------------------------------------------------------------

    async def _record(self, recorded: list[tuple[str, Transition]]) -> None:
        with unavailable("recording alert transitions"):
            await in_transaction(
                self._db, self._options, lambda s: self._insert_transitions(recorded, s)
            )

    async def _insert_transitions(
        self, recorded: list[tuple[str, Transition]], session: Session
    ) -> None:
        count = len(recorded)
        # Numbers in the order of recording, across instances and restarts: they order
        # the transitions of one microsecond.
        counter = await self._counters.find_one_and_update(
            {"_id": ALERT_TRANSITIONS},
            {"$inc": {"n": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert counter is not None  # upsert=True with ReturnDocument.AFTER
        first = int(counter["n"]) - count + 1
        await self._transitions.insert_many(
            [
                {"alert_id": alert_id, "seq": first + i, **t.to_dict()}
                for i, (alert_id, t) in enumerate(recorded)
            ],
            ordered=True,
            session=session,
        )

    async def _owned(self, project: str, alert_id: str) -> bool:
        doc = await self._alerts.find_one({"_id": alert_id, "project": project}, {"_id": 1})
        return doc is not None


def _instance_id(alert_id: str, key: InstanceKey) -> str:
    """Exact and unambiguous for any key (JSON text), unlike a hash or a joined string."""
    return json.dumps([alert_id, *key], separators=(",", ":"))
