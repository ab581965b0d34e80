"""NotificationStore on MongoDB: channels, policies, silences and deliveries.

Every decision two Vigil processes could race is a single-document operation: a channel
compare-and-set is a `replace_one` whose filter names the version; a claim is a
`find_one_and_update` whose filter requires the claim to have lapsed, so of two workers
only one matches; finishing an attempt replaces the delivery only while its claim is ours.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.compliance.model import SecretsStatus
from domain.notifications import Channel, Delivery, DeliveryState, Policy, Silence
from infra.crypto import SecretCipher
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.sealing import (
    open_channel,
    reseal_channel,
    seal_channel,
    secret_fields,
    status_of,
)

__all__ = ["NOTIFICATION_INDEXES", "MongoNotificationStore"]

Database = AsyncDatabase[dict[str, Any]]

CHANNELS = "notification_channels"  # {_id: id, **Channel.to_dict()}
POLICIES = "notification_policies"  # {_id: project, version, policy: Policy.to_dict()}
SILENCES = "notification_silences"  # {_id: id, **Silence.to_dict()}
DELIVERIES = "notification_deliveries"  # {_id: id, **Delivery.to_dict()}

NOTIFICATION_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    CHANNELS: [([("project", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {})],
    SILENCES: [([("project", ASCENDING), ("created_us", DESCENDING)], {})],
    DELIVERIES: [
        ([("state", ASCENDING), ("next_attempt_us", ASCENDING)], {}),
        ([("project", ASCENDING), ("created_us", DESCENDING)], {}),
    ],
}
_NO_ID = {"_id": 0}
_OLDEST_FIRST = [("created_at_us", ASCENDING), ("_id", ASCENDING)]
_NEWEST_FIRST = [("created_us", DESCENDING), ("_id", DESCENDING)]


class MongoNotificationStore:
    """The NotificationStore port (domain.notifications.ports) on the production store."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._channels = db.get_collection(CHANNELS, write_concern=concern)
        self._policies = db.get_collection(POLICIES, write_concern=concern)
        self._silences = db.get_collection(SILENCES, write_concern=concern)
        self._deliveries = db.get_collection(DELIVERIES, write_concern=concern)
        self.cipher: SecretCipher | None = None  # secrets sealed at rest (infra/stores/sealing)

    def use_cipher(self, cipher: SecretCipher) -> None:
        self.cipher = cipher

    # -- channels ----------------------------------------------------------------------------

    async def save_channel(self, channel: Channel, *, expected_version: int | None = None) -> bool:
        doc = {"_id": channel.id, **seal_channel(self.cipher, channel.to_dict())}
        where: dict[str, Any] = {"_id": channel.id, "project": channel.project}
        with unavailable("saving a notification channel"):
            if expected_version is None:
                try:
                    await self._channels.replace_one(where, doc, upsert=True)
                    return True
                except DuplicateKeyError:  # the id is another project's: left alone
                    return False
            where["version"] = expected_version
            result = await self._channels.replace_one(where, doc)
            return bool(result.matched_count)

    async def get_channel(self, project: str, channel_id: str) -> Channel | None:
        with unavailable("reading a notification channel"):
            doc = await self._channels.find_one({"_id": channel_id, "project": project}, _NO_ID)
        return None if doc is None else Channel.from_dict(open_channel(self.cipher, doc))

    async def list_channels(self, project: str) -> list[Channel]:
        with unavailable("listing notification channels"):
            docs = (
                await self._channels.find({"project": project}, _NO_ID)
                .sort(_OLDEST_FIRST)
                .to_list()
            )
        return [Channel.from_dict(open_channel(self.cipher, doc)) for doc in docs]

    async def secrets_status(self, project: str) -> SecretsStatus:
        """How the project's channels keep their secrets (the SecretsAtRest port)."""
        with unavailable("reading notification channels"):
            docs = await self._channels.find({"project": project}, _NO_ID).to_list()
        return status_of(self.cipher, docs)

    async def reseal_all(self) -> int:
        """Seal every channel secret under the current key (plain ones included): what
        `vigil rotate-key` and each start run. The number of secrets sealed anew."""
        cipher = self.cipher
        if cipher is None:
            return 0
        changed = 0
        with unavailable("sealing notification secrets"):
            for doc in await self._channels.find({}, _NO_ID).to_list():
                resealed, count = reseal_channel(cipher, doc)
                if count:
                    fields = {k: resealed[k] for k in secret_fields(doc) if k in resealed}
                    await self._channels.update_one({"_id": doc["id"]}, {"$set": fields})
                    changed += count
        return changed

    async def delete_channel(self, project: str, channel_id: str) -> bool:
        with unavailable("deleting a notification channel"):
            result = await self._channels.delete_one({"_id": channel_id, "project": project})
        return bool(result.deleted_count)

    # -- policies and silences ---------------------------------------------------------------

    async def save_policy(self, project: str, policy: Policy) -> None:
        doc = {"_id": project, "version": policy.version, "policy": policy.to_dict()}
        with unavailable("saving a notification policy"):
            await self._policies.replace_one({"_id": project}, doc, upsert=True)

    async def get_policy(self, project: str) -> Policy | None:
        with unavailable("reading a notification policy"):
            doc = await self._policies.find_one({"_id": project})
        return None if doc is None else Policy.parse(doc["policy"], version=doc["version"])

    async def save_silence(self, silence: Silence) -> None:
        doc = {"_id": silence.id, **silence.to_dict()}
        with unavailable("saving a silence"):
            await self._silences.replace_one(
                {"_id": silence.id, "project": silence.project}, doc, upsert=True
            )

    async def get_silence(self, project: str, silence_id: str) -> Silence | None:
        with unavailable("reading a silence"):
            doc = await self._silences.find_one({"_id": silence_id, "project": project}, _NO_ID)
        return None if doc is None else Silence.from_dict(doc)

    async def list_silences(self, project: str) -> list[Silence]:
        with unavailable("listing silences"):
            docs = (
                await self._silences.find({"project": project}, _NO_ID)
                .sort([("created_us", DESCENDING), ("_id", DESCENDING)])
                .to_list()
            )
        return [Silence.from_dict(doc) for doc in docs]

    # -- deliveries --------------------------------------------------------------------------

    async def add_delivery(self, delivery: Delivery) -> None:
        with unavailable("storing a delivery"):
            await self._deliveries.insert_one({"_id": delivery.id, **delivery.to_dict()})

    async def claim_due(
        self, owner: str, *, now_us: int, until_us: int, limit: int
    ) -> list[Delivery]:
        due = {
            "state": DeliveryState.PENDING.value,
            "next_attempt_us": {"$lte": now_us},
            "claim_until_us": {"$lte": now_us},
        }
        claimed: list[Delivery] = []
        with unavailable("claiming deliveries"):
            while len(claimed) < limit:
                doc = await self._deliveries.find_one_and_update(
                    due,
                    {"$set": {"claimed_by": owner, "claim_until_us": until_us}},
                    projection=_NO_ID,
                    sort=[("next_attempt_us", ASCENDING), ("_id", ASCENDING)],
                    return_document=ReturnDocument.AFTER,
                )
                if doc is None:
                    break
                claimed.append(Delivery.from_dict(doc))
        return claimed

    async def claim(
        self, project: str, delivery_id: str, owner: str, *, now_us: int, until_us: int
    ) -> Delivery | None:
        where = {
            "_id": delivery_id,
            "project": project,
            "state": DeliveryState.PENDING.value,
            "claim_until_us": {"$lte": now_us},
        }
        with unavailable("claiming a delivery"):
            doc = await self._deliveries.find_one_and_update(
                where,
                {"$set": {"claimed_by": owner, "claim_until_us": until_us}},
                projection=_NO_ID,
                return_document=ReturnDocument.AFTER,
            )
        return None if doc is None else Delivery.from_dict(doc)

    async def finish(self, delivery: Delivery, owner: str) -> bool:
        with unavailable("recording a delivery attempt"):
            result = await self._deliveries.replace_one(
                {"_id": delivery.id, "claimed_by": owner},
                {"_id": delivery.id, **delivery.to_dict()},
            )
        return bool(result.matched_count)

    async def get_delivery(self, project: str, delivery_id: str) -> Delivery | None:
        with unavailable("reading a delivery"):
            doc = await self._deliveries.find_one({"_id": delivery_id, "project": project}, _NO_ID)
        return None if doc is None else Delivery.from_dict(doc)

    async def list_deliveries(
        self,
        project: str,
        *,
        state: DeliveryState | None = None,
        channel_id: str | None = None,
        first: int = 100,
    ) -> list[Delivery]:
        where: dict[str, Any] = {"project": project}
        if state is not None:
            where["state"] = state.value
        if channel_id is not None:
            where["channel_id"] = channel_id
        with unavailable("listing deliveries"):
            docs = (
                await self._deliveries.find(where, _NO_ID)
                .sort(_NEWEST_FIRST)
                .limit(first)
                .to_list()
            )
        return [Delivery.from_dict(doc) for doc in docs]
