"""Layout versions of the MongoDB database, and the ordered steps that bring an old one up to date.

The database records its layout in one document of `meta`: `{_id: "layout", version,
history: [{version, name, by, at}], lock}`. At open, `migrate_layout` compares it with
`LAYOUT_VERSION`:

- no Vigil collection and no document: a new database, created at `LAYOUT_VERSION`
  directly (`create_layout`); the document is written first, at version 0, so another
  instance starting at the same moment never mistakes a half-created database for an old
  one;
- Vigil collections but no document: a database written before layouts had versions,
  which is layout 1 (points, series, ingest keys, audit, counters, alerting);
- an older layout: the steps of `MIGRATIONS` after it run in order;
- a newer layout: refused, and nothing is written (docs/decisions/0012).

Several instances may start at once, so a step runs only under the document's `lock`,
taken by a compare-and-set (`find_one_and_update` on the version and a free or expired
lock) and renewed while the step runs. The others poll until the version is current, for
at most `wait_seconds`. A lock whose holder died expires after `lock_seconds` and the next
instance takes the step over: every step is idempotent (`create_index` of what exists is
a no-op), so re-running half of one is safe. The version moves only if the lock is still
ours, so each step is recorded once in `history`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from domain.errors import Unavailable
from domain.system.model import link
from domain.system.read_models import AuditEntry
from infra.stores.mongo.dates import now
from infra.stores.mongo.layout_reports import REPORTS as REPORTS_LAYOUT
from infra.stores.mongo.layout_steps import (
    ANALYTICS_JOBS,
    DASHBOARDS_AND_NOTIFICATIONS,
    METRIC_DESCRIPTIONS,
    REPORT_SLOTS,
    IndexSpec,
)
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import (
    ALERT_INSTANCES,
    ALERT_TRANSITIONS,
    ALERTS,
    AUDIT,
    COUNTERS,
    KEYS,
    LEASES,
    META,
    POINTS,
    SERIES,
    Database,
    create_layout,
)

__all__ = [
    "LAYOUT_VERSION",
    "MIGRATIONS",
    "NEW_STORE",
    "Migration",
    "migrate_layout",
    "newer_layout",
]

log = logging.getLogger("vigil.store.mongo")

LAYOUT_VERSION = 14
WAIT_SECONDS = 120.0  # how long an instance waits for another one's migration
LOCK_SECONDS = 30.0  # a migration lock not renewed for this long is presumed dead

LAYOUT = "layout"  # the `_id` of the layout document in `meta`
# Any of these means the database holds layout 1 or later.
_LAYOUT_1_COLLECTIONS = frozenset(
    {POINTS, SERIES, KEYS, AUDIT, COUNTERS, ALERTS, ALERT_INSTANCES, ALERT_TRANSITIONS, LEASES}
)

Meta = AsyncCollection[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: from layout `version - 1` to `version`."""

    version: int
    name: str
    apply: Callable[[Database, MongoOptions], Awaitable[None]]


def _create_indexes(indexes: dict[str, list[IndexSpec]]) -> Callable[..., Awaitable[None]]:
    async def apply(db: Database, options: MongoOptions) -> None:
        for name, specs in indexes.items():
            for keys, extra in specs:
                await db[name].create_index(keys, **extra)

    return apply


# Layout 5: the audit trail chained by hash, and compliance's collections. Frozen.
_CHAIN_AND_COMPLIANCE: dict[str, list[IndexSpec]] = {
    AUDIT: [([("project", ASCENDING), ("chain_index", DESCENDING)], {"unique": True})],
    "audit_checkpoints": [([("project", ASCENDING), ("chain_index", DESCENDING)], {})],
    "access_usage": [([("project", ASCENDING), ("subject", ASCENDING)], {})],
    "access_reviews": [([("project", ASCENDING), ("started_us", DESCENDING)], {})],
    "revocations": [([("project", ASCENDING), ("at_us", ASCENDING)], {})],
    "compliance_runs": [([("project", ASCENDING), ("finished_us", DESCENDING)], {})],
}


async def _chained_audit(db: Database, options: MongoOptions) -> None:
    """Chain the entries written before chains existed, in the order written (`seq`), then
    index the chains. Entries already chained (a step re-run) are left as they are."""
    audit = db[AUDIT]
    heads: dict[str, tuple[int, str]] = {}
    chained = audit.find({"chain_index": {"$gt": 0}}, {"project": 1, "chain_index": 1, "hash": 1})
    for doc in await chained.sort("chain_index", ASCENDING).to_list():
        heads[doc["project"]] = (doc["chain_index"], doc["hash"])
    old = audit.find({"chain_index": {"$exists": False}})
    for doc in await old.sort("seq", ASCENDING).to_list():
        entry = AuditEntry(
            doc["actor"],
            doc["action"],
            doc["project"],
            doc["outcome"],
            doc["us"],
            doc["request_id"],
            json.loads(doc["detail"]),
        )
        sealed = link(entry, heads.get(entry.project))
        heads[entry.project] = (sealed.chain_index, sealed.hash)
        await audit.update_one(
            {"_id": doc["_id"]},
            {
                "$set": {
                    "role": "",
                    "target": "{}",
                    "changes": "[]",
                    "client": "",
                    "chain_index": sealed.chain_index,
                    "prev_hash": sealed.prev_hash,
                    "hash": sealed.hash,
                }
            },
        )
    await _create_indexes(_CHAIN_AND_COMPLIANCE)(db, options)


# Layout 6: failed batches are set aside instead of deleted, and the catalogue is refreshed
# by a change document (decision 0021). Frozen as layout 2 is.
_VOID_BATCHES_AND_RECENT_SERIES: dict[str, list[IndexSpec]] = {
    "void_batches": [([("p", ASCENDING)], {})],
    "series": [([("p", ASCENDING), ("first_seen", ASCENDING)], {})],
}


async def _void_batches(db: Database, options: MongoOptions) -> None:
    await _create_indexes(_VOID_BATCHES_AND_RECENT_SERIES)(db, options)
    # Void markers expire with the points they hide: the expiry the points have now.
    infos = await (await db.list_collections(filter={"name": POINTS})).to_list()
    points = infos[0].get("options", {}) if infos else {}
    seconds = int(points.get("expireAfterSeconds") or options.retention_seconds)
    await db["void_batches"].create_index("at", name="at_ttl", expireAfterSeconds=seconds)


# Layout 7: anomaly detection and incidents (issue 15). Frozen, as above.
_ANOMALIES_AND_INCIDENTS: dict[str, list[IndexSpec]] = {
    "anomaly_detections": [
        ([("project", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {}),
        ([("enabled", ASCENDING)], {}),
    ],
    "anomaly_detectors": [([("placement", ASCENDING)], {})],
    "anomalies": [
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
    "anomaly_bands": [
        ([("project", ASCENDING), ("metric", ASCENDING), ("bucket_us", ASCENDING)], {})
    ],
    "incidents": [
        ([("project", ASCENDING), ("opened_us", DESCENDING), ("_id", DESCENDING)], {}),
        ([("project", ASCENDING), ("state", ASCENDING)], {}),
    ],
}

# Layout 10: rollup tiers, their dirty buckets (issue 13, decision 0004 "Rollup tiers").
_ROLLUP_TIERS: dict[str, list[IndexSpec]] = {
    **{
        f"rollup_{tier}": [
            ([("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)], {"unique": True}),
            ([("b", ASCENDING)], {}),
            ([("p", ASCENDING), ("b", ASCENDING)], {}),
        ]
        for tier in ("1m", "1h")
    },
    "rollup_dirty": [
        (
            [("t", ASCENDING), ("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)],
            {"unique": True},
        )
    ],
}
# In order, one per version after 1: MIGRATIONS[i] makes layout i + 2. A new store skips
# them all and gets the current layout at once (NEW_STORE).
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "dashboards and notifications", _create_indexes(DASHBOARDS_AND_NOTIFICATIONS)),
    Migration(3, "metric descriptions", _create_indexes(METRIC_DESCRIPTIONS)),
    Migration(4, "analytics jobs", _create_indexes(ANALYTICS_JOBS)),
    Migration(5, "chained audit trail and compliance", _chained_audit),
    Migration(6, "void batches and recent series", _void_batches),
    Migration(7, "anomaly detection and incidents", _create_indexes(_ANOMALIES_AND_INCIDENTS)),
    # Steps "(DuckDB only)" change nothing here: both stores number the same layouts.
    Migration(8, "retention policies", _create_indexes({})),  # a document per project
    Migration(9, "hot and compacted points (DuckDB only)", _create_indexes({})),
    Migration(10, "rollup tiers", _create_indexes(_ROLLUP_TIERS)),
    Migration(11, "dirty spans of the rollup tiers (DuckDB only)", _create_indexes({})),
    Migration(12, "cost pricing", _create_indexes({})),  # a document per project: no index
    Migration(13, "reports", _create_indexes(REPORTS_LAYOUT)),  # layout_reports.py
    Migration(14, "report schedule slots", _create_indexes(REPORT_SLOTS)),
)
NEW_STORE = Migration(LAYOUT_VERSION, f"new store at layout {LAYOUT_VERSION}", create_layout)


def newer_layout(found: int) -> Unavailable:
    return Unavailable(
        f"the store was written by a newer Vigil (layout {found},"
        f" this build knows {LAYOUT_VERSION}); upgrade Vigil"
    )


async def migrate_layout(
    db: Database,
    options: MongoOptions,
    *,
    owner: str | None = None,
    wait_seconds: float = WAIT_SECONDS,
    lock_seconds: float = LOCK_SECONDS,
) -> list[Migration]:
    """Bring the database to `LAYOUT_VERSION`; the steps this call applied.

    Raises `Unavailable` when the layout is newer (having written nothing), or when
    another instance's migration is not over within `wait_seconds`.
    """
    concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
    meta: Meta = db.get_collection(META, write_concern=concern)
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    deadline = time.monotonic() + wait_seconds
    pause = 0.05
    applied: list[Migration] = []
    while True:
        doc = await _layout_document(db, meta)
        found = int(doc["version"])
        if found > LAYOUT_VERSION:
            raise newer_layout(found)
        if found == LAYOUT_VERSION:
            return applied
        step = NEW_STORE if found == 0 else MIGRATIONS[found - 1]
        if await _lock(meta, found, step.version, owner, lock_seconds):
            if await _apply(db, meta, options, step, found, owner, lock_seconds):
                log.info("MongoDB: store layout %d -> %d (%s)", found, step.version, step.name)
                applied.append(step)
            continue
        if time.monotonic() >= deadline:
            raise _still_migrating(found, doc.get("lock"), wait_seconds)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


async def _layout_document(db: Database, meta: Meta) -> dict[str, Any]:
    """The layout document, written first (version 0 or 1) if the database has none."""
    doc = await meta.find_one({"_id": LAYOUT})
    if doc is not None:
        return doc
    names = {info["name"] for info in await (await db.list_collections()).to_list()}
    baseline = 1 if names & _LAYOUT_1_COLLECTIONS else 0
    with suppress(DuplicateKeyError):  # another instance wrote it first: theirs stands
        await meta.update_one(
            {"_id": LAYOUT}, {"$setOnInsert": {"version": baseline, "history": []}}, upsert=True
        )
    doc = await meta.find_one({"_id": LAYOUT})
    if doc is None:
        raise Unavailable("MongoDB: the layout document vanished while the store was opening")
    return doc


async def _lock(meta: Meta, found: int, target: int, owner: str, seconds: float) -> bool:
    """Take the migration lock of layout `found` if it is free or its holder presumed dead."""
    at = now()
    taken = await meta.find_one_and_update(
        {"_id": LAYOUT, "version": found, "$or": [{"lock": None}, {"lock.until": {"$lte": at}}]},
        {"$set": {"lock": {"owner": owner, "version": target, "until": at + _span(seconds)}}},
    )
    if taken is not None and taken.get("lock"):
        log.warning(
            "MongoDB: took over the layout migration %d -> %d of %s (its lock expired)",
            found,
            target,
            taken["lock"].get("owner"),
        )
    return taken is not None


async def _apply(
    db: Database,
    meta: Meta,
    options: MongoOptions,
    step: Migration,
    found: int,
    owner: str,
    lock_seconds: float,
) -> bool:
    """Run the step under our lock, then move the version if the lock is still ours."""
    renew = asyncio.create_task(_keep_lock(meta, owner, lock_seconds))
    try:
        await step.apply(db, options)
    except BaseException:
        with suppress(PyMongoError):  # free the lock so that another instance retries now
            await meta.update_one({"_id": LAYOUT, "lock.owner": owner}, {"$unset": {"lock": ""}})
        raise
    finally:
        renew.cancel()
    record = {"version": step.version, "name": step.name, "by": owner, "at": now()}
    done = await meta.update_one(
        {"_id": LAYOUT, "version": found, "lock.owner": owner},
        {"$set": {"version": step.version}, "$unset": {"lock": ""}, "$push": {"history": record}},
    )
    # Not ours any more: judged dead and taken over; the new holder re-runs the step.
    return done.matched_count == 1


async def _keep_lock(meta: Meta, owner: str, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        with suppress(PyMongoError):  # a lost renewal only lets the lock expire
            await meta.update_one(
                {"_id": LAYOUT, "lock.owner": owner},
                {"$set": {"lock.until": now() + _span(seconds)}},
            )


def _still_migrating(found: int, lock: Any, wait_seconds: float) -> Unavailable:
    holder = lock if isinstance(lock, dict) else {}
    return Unavailable(
        f"MongoDB: another Vigil instance ({holder.get('owner', '?')}) is migrating the store"
        f" layout from {found} to {holder.get('version', '?')} and was not done within"
        f" {wait_seconds:g} s; start this instance again once it is"
    )


def _span(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
