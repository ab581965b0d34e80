"""Stores at an earlier layout, built directly, for the migration tests.

Layout 1 is what Vigil wrote before layouts had versions: the tables and indexes of commit
2e3a313 (the last release before dashboards and notifications), copied here, and data
in the form that release stored it. Nothing here goes through the current store code,
so a migration that loses or misreads old data shows. `OldStore` also reads and marks
the stored layout version, and describes the layout to compare two stores.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient

from domain.system.read_models import AuditEntry
from infra.stores.mongo import MongoDatabase
from infra.stores.mongo.dates import date_of_us
from infra.stores.mongo.options import MongoOptions
from tests.contract.alerting_data import alert, full_rule
from tests.contract.conftest import StoreDatabase, StoreFactory, open_duckdb
from tests.contract.data import NOW_US, SECOND, Point, point_batch
from tests.contract.mongo_emulator import (
    EMULATOR_FEATURES,
    URL_ENV,
    EmulatedClient,
    open_mongo_real,
)

# -- what a layout-1 store holds -------------------------------------------------------------

OLD_BATCH = point_batch(
    "alpha",
    [Point("cpu", {"host": "h1"}, NOW_US + i * SECOND, 0.5 * i) for i in range(5)]
    + [Point("mem", {"host": "h2", "dc": "eu"}, NOW_US + i * SECOND, 100.0 + i) for i in range(3)],
)
OLD_KEY = "collector-batch-7"
# Layout 1 and 2 stored a point sent twice twice: the first point of OLD_BATCH was also
# stored earlier with this value, which layout 3 must hide (the last write wins).
STALE_VALUE = -1.0
OLD_AUDIT = [
    AuditEntry("ann", "createAlert", "alpha", "ok", NOW_US, "r-1", {"$odd.key": [1, "two"]}),
    AuditEntry("bob", "acknowledgeAlert", "alpha", "FORBIDDEN", NOW_US + 1, "r-2", {}),
]
OLD_ALERT = alert("a-old", rule=full_rule())

V1_DUCKDB = (
    """CREATE TABLE series (project VARCHAR NOT NULL, id BIGINT NOT NULL, name VARCHAR NOT NULL,
        tags MAP(VARCHAR, VARCHAR) NOT NULL, type VARCHAR NOT NULL, category VARCHAR NOT NULL,
        source VARCHAR NOT NULL, first_seen TIMESTAMP NOT NULL, PRIMARY KEY (project, id))""",
    "CREATE TABLE points (series_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE NOT NULL)",
    """CREATE TABLE ingest_keys (project VARCHAR NOT NULL, key VARCHAR NOT NULL,
        accepted BIGINT NOT NULL, created_at TIMESTAMP NOT NULL, PRIMARY KEY (project, key))""",
    "CREATE SEQUENCE audit_seq START 1",
    """CREATE TABLE audit (seq BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
        actor VARCHAR NOT NULL, action VARCHAR NOT NULL, project VARCHAR NOT NULL,
        outcome VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, request_id VARCHAR NOT NULL,
        detail JSON NOT NULL)""",
    """CREATE TABLE alerts (id VARCHAR PRIMARY KEY, project VARCHAR NOT NULL,
        enabled BOOLEAN NOT NULL, created_at_us BIGINT NOT NULL, version BIGINT NOT NULL,
        doc VARCHAR NOT NULL)""",
    """CREATE TABLE alert_instances (alert_id VARCHAR NOT NULL, key VARCHAR NOT NULL,
        state VARCHAR NOT NULL, PRIMARY KEY (alert_id, key))""",
    "CREATE SEQUENCE alert_transition_seq START 1",
    """CREATE TABLE alert_transitions (seq BIGINT NOT NULL, n INTEGER NOT NULL,
        alert_id VARCHAR NOT NULL, at_us BIGINT NOT NULL, doc VARCHAR NOT NULL)""",
    """CREATE TABLE leases (name VARCHAR PRIMARY KEY, owner VARCHAR NOT NULL,
        expires_at_us BIGINT NOT NULL)""",
)
# What a build of layout 2 that crashed in the middle of its migration would leave.
HALF_OF_V2_DUCKDB = """CREATE TABLE dashboards (project VARCHAR NOT NULL, id VARCHAR NOT NULL,
    created_at_us BIGINT NOT NULL, version BIGINT NOT NULL, doc VARCHAR NOT NULL,
    PRIMARY KEY (project, id))"""

_UP, _DOWN = ASCENDING, DESCENDING
V1_MONGO_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "points": [([("m.p", _UP), ("m.s", _UP), ("t", _UP)], {})],
    "series": [([("p", _UP), ("s", _UP)], {"unique": True})],
    "ingest_keys": [
        ([("p", _UP), ("k", _UP)], {"unique": True}),
        ([("at", _UP)], {"name": "at_ttl", "expireAfterSeconds": 30 * 86_400}),
    ],
    "audit": [
        ([("seq", _DOWN)], {"unique": True}),
        ([("project", _UP), ("seq", _DOWN)], {}),
        ([("project", _UP), ("actor", _UP), ("seq", _DOWN)], {}),
        ([("project", _UP), ("action", _UP), ("seq", _DOWN)], {}),
    ],
    "alerts": [
        ([("project", _UP), ("created_at_us", _UP), ("_id", _UP)], {}),
        ([("enabled", _UP), ("created_at_us", _UP), ("_id", _UP)], {}),
    ],
    "alert_instances": [([("alert_id", _UP)], {})],
    "alert_transitions": [([("alert_id", _UP), ("at_us", _DOWN), ("seq", _DOWN)], {})],
}
HALF_OF_V2_MONGO = ("dashboards", [("project", _UP), ("created_at_us", _UP), ("id", _UP)])


@dataclass(frozen=True, slots=True)
class Layout:
    """The layout version a store records, and the versions its history lists in order."""

    version: int | None
    history: list[int]


# -- DuckDB ------------------------------------------------------------------------------------


class OldDuckDB:
    kind = "duckdb"

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._path = tmp_path / "store" / "vigil.duckdb"  # where open_duckdb keeps it

    async def build_v1(self, *, half_of_v2: bool = False) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self._path)) as con:
            for statement in V1_DUCKDB + ((HALF_OF_V2_DUCKDB,) if half_of_v2 else ()):
                con.execute(statement)
            for spec in OLD_BATCH.series:
                con.execute(
                    "INSERT INTO series VALUES ($p, $id, $n, map($k::VARCHAR[], $v::VARCHAR[]),"
                    " $type, $category, $source, make_timestamp($now))",
                    {"p": "alpha", "id": spec.id, "n": spec.name, "k": list(spec.tags)}
                    | {"v": list(spec.tags.values()), "type": spec.type.value, "now": NOW_US}
                    | {"category": spec.category, "source": spec.source},
                )
            for i, ts, value in [(*_points()[0][:2], STALE_VALUE), *_points()]:
                con.execute(
                    "INSERT INTO points VALUES ($sid, make_timestamp($ts), $v)",
                    {"sid": OLD_BATCH.series[i].id, "ts": ts, "v": value},
                )
            con.execute(
                "INSERT INTO ingest_keys VALUES ('alpha', $k, $n, make_timestamp($now))",
                {"k": OLD_KEY, "n": len(OLD_BATCH), "now": NOW_US},
            )
            for e in OLD_AUDIT:
                con.execute(
                    "INSERT INTO audit (actor, action, project, outcome, ts, request_id, detail)"
                    " VALUES ($a, $b, $p, $o, make_timestamp($ts), $r, $d)",
                    {"a": e.actor, "b": e.action, "p": e.project, "o": e.outcome}
                    | {"ts": e.timestamp_us, "r": e.request_id, "d": json.dumps(e.detail)},
                )
            con.execute(
                "INSERT INTO alerts VALUES ($id, $p, $on, $at, $version, $doc)",
                {"id": OLD_ALERT.id, "p": OLD_ALERT.project, "on": OLD_ALERT.enabled}
                | {"at": OLD_ALERT.created_at_us, "version": OLD_ALERT.version}
                | {"doc": json.dumps(OLD_ALERT.to_dict(), separators=(",", ":"))},
            )

    async def open(self) -> StoreDatabase:
        return await open_duckdb(self._tmp_path)

    async def layout(self) -> Layout:
        with duckdb.connect(str(self._path)) as con:
            tables = {name for (name,) in con.execute("SHOW TABLES").fetchall()}
            if "vigil_layout" not in tables:
                return Layout(None, [])
            rows = con.execute("SELECT version FROM vigil_layout ORDER BY version").fetchall()
        history = [version for (version,) in rows]
        return Layout(max(history, default=None), history)

    async def mark(self, version: int) -> None:
        """Record `version` as a newer Vigil would."""
        with duckdb.connect(str(self._path)) as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS vigil_layout (version INTEGER PRIMARY KEY,"
                " name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            con.execute("INSERT INTO vigil_layout VALUES ($v, 'newer', now())", {"v": version})

    async def describe(self) -> dict[str, Any]:
        with duckdb.connect(str(self._path)) as con:
            return {
                name: con.execute(query).fetchall()
                for name, query in {
                    "columns": "SELECT table_name, column_name, data_type, is_nullable,"
                    " column_default FROM information_schema.columns ORDER BY ALL",
                    "constraints": "SELECT table_name, constraint_type,"
                    " constraint_column_names FROM duckdb_constraints() ORDER BY ALL",
                    "sequences": "SELECT sequence_name FROM duckdb_sequences() ORDER BY ALL",
                    "indexes": "SELECT index_name, sql FROM duckdb_indexes() ORDER BY ALL",
                }.items()
            }

    async def aclose(self) -> None:
        return None


def _points() -> list[tuple[int, int, float]]:
    return list(zip(OLD_BATCH.series_index, OLD_BATCH.timestamps_us, OLD_BATCH.values, strict=True))


# -- MongoDB (emulated or real) ----------------------------------------------------------------


class OldMongo:
    def __init__(self, tmp_path: Path, *, real: bool) -> None:
        self._tmp_path = tmp_path
        self.kind = "mongo-real" if real else "mongo-emulated"
        self._client: Any
        if real:
            url = os.environ.get(URL_ENV)
            if not url:
                pytest.skip(f"{URL_ENV} is not set")
            # open_mongo_real takes the database named in this file (mongo_emulator.py).
            tmp_path.mkdir(parents=True, exist_ok=True)
            name = f"vigil_test_{uuid.uuid4().hex[:20]}"
            (tmp_path / "mongo-database").write_text(name)
            self._client = AsyncMongoClient(url, tz_aware=False, serverSelectionTimeoutMS=5000)
            self.db: Any = self._client[name]
        else:
            self._client = EmulatedClient()
            self.db = self._client["vigil"]

    async def build_v1(self, *, half_of_v2: bool = False) -> None:
        db = self.db
        options = MongoOptions()
        await db.create_collection(
            "points",
            timeseries={"timeField": "t", "metaField": "m", "granularity": options.granularity},
            expireAfterSeconds=options.retention_seconds,
        )
        indexes = dict(V1_MONGO_INDEXES)
        if half_of_v2:
            indexes[HALF_OF_V2_MONGO[0]] = [(HALF_OF_V2_MONGO[1], {})]
        for name, specs in indexes.items():
            for keys, extra in specs:
                await db[name].create_index(keys, **extra)
        stale_id = ObjectId()  # an earlier batch: ObjectIds of one process grow
        batch_id, metas = (
            ObjectId(),
            [
                {"p": "alpha", "n": s.name, "s": s.id, "tags": dict(sorted(s.tags.items()))}
                for s in OLD_BATCH.series
            ],
        )
        i, ts, _ = _points()[0]
        stale = {"t": date_of_us(ts), "m": metas[i], "us": ts, "v": STALE_VALUE, "b": stale_id}
        await db["points"].insert_many(
            [stale]
            + [
                {"t": date_of_us(ts), "m": metas[i], "us": ts, "v": v, "b": batch_id}
                for i, ts, v in _points()
            ]
        )
        first_seen = date_of_us(NOW_US)
        await db["series"].insert_many(
            [
                {"p": "alpha", "s": s.id, "n": s.name, "tags": dict(sorted(s.tags.items()))}
                | {"type": s.type.value, "category": s.category, "source": s.source}
                | {"first_seen": first_seen}
                for s in OLD_BATCH.series
            ]
        )
        await db["ingest_keys"].insert_one(
            {"_id": batch_id, "p": "alpha", "k": OLD_KEY, "n": len(OLD_BATCH), "b": batch_id}
            | {"done": True, "at": first_seen}
        )
        await db["audit"].insert_many(
            [
                {"seq": seq, "actor": e.actor, "action": e.action, "project": e.project}
                | {"outcome": e.outcome, "ts": date_of_us(e.timestamp_us), "us": e.timestamp_us}
                | {"request_id": e.request_id, "detail": json.dumps(e.detail)}
                for seq, e in enumerate(OLD_AUDIT, start=1)
            ]
        )
        await db["counters"].insert_one({"_id": "audit", "n": len(OLD_AUDIT)})
        await db["alerts"].insert_one({"_id": OLD_ALERT.id, **OLD_ALERT.to_dict()})

    async def open(self) -> StoreDatabase:
        if self.kind == "mongo-real":
            return await open_mongo_real(self._tmp_path)
        return await MongoDatabase.open_with_client(
            self._client, database="vigil", features=EMULATOR_FEATURES
        )

    async def layout(self) -> Layout:
        doc = await self.db["meta"].find_one({"_id": "layout"})
        if doc is None:
            return Layout(None, [])
        return Layout(int(doc["version"]), [int(h["version"]) for h in doc.get("history", [])])

    async def mark(self, version: int) -> None:
        await self.db["meta"].update_one(
            {"_id": "layout"}, {"$set": {"version": version, "history": []}}, upsert=True
        )

    async def set_lock(self, owner: str, *, until_us: int) -> None:
        """Leave the migration lock of layout 1 -> 2 as an instance that holds it would."""
        lock = {"owner": owner, "version": 2, "until": date_of_us(until_us)}
        await self.db["meta"].update_one(
            {"_id": "layout"}, {"$set": {"version": 1, "history": [], "lock": lock}}, upsert=True
        )

    async def describe(self) -> dict[str, Any]:
        """Indexes by collection (collections with `_id` alone left out: they exist only
        once written to), and the options of the points collection."""
        infos = await (await self.db.list_collections()).to_list()
        described: dict[str, Any] = {}
        for info in sorted(infos, key=lambda i: str(i["name"])):
            name = str(info["name"])
            if name.startswith("system."):
                continue
            indexes = sorted(
                (
                    [(str(k), int(d)) for k, d in index["key"]],
                    bool(index.get("unique")),
                    index.get("expireAfterSeconds"),
                )
                for index_name, index in (await self.db[name].index_information()).items()
                if index_name != "_id_"
            )
            if indexes:
                described[name] = indexes
            if name == "points":
                described["points options"] = info.get("options", {}).get("timeseries")
        return described

    async def aclose(self) -> None:
        if self.kind == "mongo-real":
            await self._client.close()


OldStore = OldDuckDB | OldMongo


def old_store(store_factory: StoreFactory, tmp_path: Path) -> OldStore:
    """The builder for the store the contract fixture `store_factory` stands for."""
    if store_factory is open_duckdb:
        return OldDuckDB(tmp_path)
    return OldMongo(tmp_path, real=store_factory is open_mongo_real)


def far_future_us() -> int:
    return time.time_ns() // 1000 + 3_600 * SECOND
