"""How long MongoDB keeps points: one setting stored in the database, for every instance.

The setting is the document `{_id: "retention", seconds, by, at}` of `meta`. A new database
takes the retention the first instance was configured with; a database of an older
layout takes the expiry its points collection already has. From then on only `vigil
retention DAYS` (`set_retention`) changes it, so instances configured differently no
longer overwrite each other's expiry at every start: an instance whose
`VIGIL_RETENTION_DAYS` differs logs that the stored setting applies.

Changing an expiry runs `collMod`, which the `readWrite` role lacks (it is in
`dbAdmin`). An instance applies the stored setting at start only if the expiries differ
from it (after a `vigil retention` whose `collMod` failed), and a user without the
privilege then gets a warning, not a refusal to start.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import OperationFailure

from domain.errors import Unavailable
from infra.stores.mongo.dates import now
from infra.stores.mongo.options import MAX_RETENTION_DAYS, MongoOptions
from infra.stores.mongo.schema import (
    META,
    POINTS,
    TTL_INDEX,
    TTL_INDEXES,
    Database,
    create_ttl_index,
)

__all__ = ["RETENTION", "applied_retention", "set_retention", "settle_retention"]

log = logging.getLogger("vigil.store.mongo")

RETENTION = "retention"  # the `_id` of the setting in `meta`
_UNAUTHORIZED = 13
_PRIVILEGE = (
    "changing an expiry needs the collMod action on the database (the dbAdmin role);"
    " run `vigil retention DAYS` as a user that has it"
)


async def settle_retention(db: Database, options: MongoOptions) -> int:
    """The stored retention in seconds (created if missing), applied if it is not yet."""
    meta = db[META]
    doc = await meta.find_one({"_id": RETENTION})
    if doc is None:
        seconds = (await applied_retention(db)).get(POINTS) or options.retention_seconds
        first = {"seconds": seconds, "by": "first start", "at": now()}
        await meta.update_one({"_id": RETENTION}, {"$setOnInsert": first}, upsert=True)
        doc = await meta.find_one({"_id": RETENTION})
        if doc is None:
            raise Unavailable("MongoDB: the retention setting vanished while the store opened")
    seconds = int(doc["seconds"])
    if seconds != options.retention_seconds:
        log.warning(
            "MongoDB: the store keeps points %s; this instance was configured for %s"
            " (VIGIL_RETENTION_DAYS): the store's setting applies. Change it for every"
            " instance with `vigil retention DAYS`",
            _days(seconds),
            _days(options.retention_seconds),
        )
    try:
        await _apply(db, seconds)
    except OperationFailure as exc:
        if exc.code != _UNAUTHORIZED:
            raise
        log.warning(
            "MongoDB: the expiry of points differs from the stored retention; %s", _PRIVILEGE
        )
    return seconds


async def set_retention(db: Database, seconds: int, *, by: str) -> None:
    """Store a new retention and apply it (`vigil retention DAYS`)."""
    if not 0 < seconds <= MAX_RETENTION_DAYS * 86_400:
        raise ValueError(f"the retention must be 1 to {MAX_RETENTION_DAYS} days")
    doc = {"seconds": seconds, "by": by, "at": now()}
    await db[META].update_one({"_id": RETENTION}, {"$set": doc}, upsert=True)
    try:
        await _apply(db, seconds)
    except OperationFailure as exc:
        if exc.code != _UNAUTHORIZED:
            raise
        raise Unavailable(
            f"MongoDB: the retention of {_days(seconds)} is stored, but {_PRIVILEGE}"
        ) from None


async def applied_retention(db: Database) -> dict[str, int | None]:
    """The expiry each collection has now: points and the TTL index of each of
    TTL_INDEXES (None where there is none)."""
    infos = await (await db.list_collections(filter={"name": POINTS})).to_list()
    settings: dict[str, Any] = infos[0].get("options", {}) if infos else {}
    if "timeseries" not in settings:
        raise Unavailable(f"MongoDB: the collection {POINTS!r} is missing or not time-series")
    applied: dict[str, int | None] = {POINTS: settings.get("expireAfterSeconds")}
    for name in TTL_INDEXES:
        index = (await db[name].index_information()).get(TTL_INDEX, {})
        applied[name] = index.get("expireAfterSeconds")
    return applied


async def _apply(db: Database, seconds: int) -> None:
    """Bring every expiry to `seconds`; only those that differ are changed."""
    for name, current in (await applied_retention(db)).items():
        if current == seconds:
            continue
        if name == POINTS:
            await db.command({"collMod": POINTS, "expireAfterSeconds": seconds})
        elif current is None:  # no expiry yet: creating the index needs no collMod
            await create_ttl_index(db, name, seconds)
        else:
            index = {"name": TTL_INDEX, "expireAfterSeconds": seconds}
            await db.command({"collMod": name, "index": index})
        log.info("MongoDB: the expiry of %s is now %s", name, _days(seconds))


def _days(seconds: int) -> str:
    days = seconds / 86_400
    return f"{days:g} days" if days >= 1 else f"{seconds} s"
