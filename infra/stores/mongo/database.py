"""One MongoDB database holding metrics, the audit log and alerting: open, use, close."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from domain.errors import Unavailable
from infra.stores.mongo.alerts import MongoAlertStore
from infra.stores.mongo.analytics import MongoAnalyticsJobStore
from infra.stores.mongo.anomalies import MongoAnomalyStore
from infra.stores.mongo.audit import MongoAuditStore
from infra.stores.mongo.catalogue import MongoCatalogue
from infra.stores.mongo.compliance import MongoComplianceStore
from infra.stores.mongo.dashboards import MongoDashboardStore
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.incidents import MongoIncidentStore
from infra.stores.mongo.leases import MongoLeaseStore
from infra.stores.mongo.metrics import MongoMetricStore
from infra.stores.mongo.migrations import migrate_layout
from infra.stores.mongo.notifications import MongoNotificationStore
from infra.stores.mongo.options import MongoOptions, ServerFeatures
from infra.stores.mongo.pricing import MongoPricingStore
from infra.stores.mongo.report_slots import MongoReportSlotStore
from infra.stores.mongo.reports import MongoArtefactStore, MongoReportStore
from infra.stores.mongo.retention import applied_retention, set_retention, settle_retention
from infra.stores.mongo.retention_policies import MongoRetentionStore
from infra.stores.mongo.rollups import MongoRollupStore, RollupMarks
from infra.stores.mongo.schema import Database
from infra.stores.mongo.server import check_server

__all__ = ["MongoDatabase", "pick_database"]

Client = AsyncMongoClient[dict[str, Any]]


class MongoDatabase:
    """The production store: `metrics`, `audit` and `alerts` share one client and database.

    `open(url)` makes its own `AsyncMongoClient` and closes it on `close()`;
    `open_with_client(client)` uses the caller's client (or an object with the same
    methods, as the contract tests' emulator) and leaves it open.
    """

    def __init__(
        self,
        db: Database,
        catalogue: MongoCatalogue,
        options: MongoOptions,
        features: ServerFeatures,
        client: Client | None,
        retention_seconds: int,
        marks: RollupMarks,
    ) -> None:
        self.name = db.name
        self.options = options
        self.features = features
        # The stored retention (retention.py): what ingest must accept, for every instance.
        self.retention_seconds = retention_seconds
        self.rollups = MongoRollupStore(db, options, marks)
        self.metrics = MongoMetricStore(db, catalogue, options, features, self.close, self.rollups)
        self.audit = MongoAuditStore(db, options)
        self.alerts = MongoAlertStore(db, options)
        self.leases = MongoLeaseStore(db, options)
        self.dashboards = MongoDashboardStore(db, options)
        self.notifications = MongoNotificationStore(db, options)
        self.analytics = MongoAnalyticsJobStore(db, options)
        self.compliance = MongoComplianceStore(db, options)
        self._db = db
        self.anomalies = MongoAnomalyStore(db, options)
        self.incidents = MongoIncidentStore(db, options)
        self.retention = MongoRetentionStore(db, options)
        self.pricing = MongoPricingStore(db, options)
        self.reports = MongoReportStore(db, options)
        self.report_artefacts = MongoArtefactStore(db, options)
        self.report_slots = MongoReportSlotStore(db, options)
        self._client = client
        self._closed = False

    @classmethod
    async def open(
        cls, url: str, *, database: str | None = None, options: MongoOptions | None = None
    ) -> MongoDatabase:
        """Connect, check the server, create or migrate the layout and load the catalogue.

        `database`, when given, is the database used, whatever the URL names (the URL's
        database may be another one, production's); otherwise the URL's, else "vigil".
        A server that cannot be reached raises `Unavailable` once the operation timeout
        has passed; so does a server Vigil cannot run on (server.py) and a database
        written by a newer Vigil, which is left as it was (migrations.py).
        """
        options = options or MongoOptions()
        try:
            client: Client = AsyncMongoClient(
                url,
                appname="vigil",
                tz_aware=False,
                # timeoutMS bounds every operation, server selection included; the
                # deprecated socketTimeoutMS and wtimeout are not set (they would conflict).
                timeoutMS=options.timeout_ms,
                connectTimeoutMS=options.connect_timeout_ms,
                retryWrites=True,
                retryReads=True,
            )
            db = pick_database(client, database)
        except (PyMongoError, ValueError, TypeError) as exc:
            # Whatever the parser says may quote the URL, password included.
            raise Unavailable(
                f"MongoDB: the store URL is not valid ({type(exc).__name__})"
            ) from None
        try:
            return await cls._open(db, options, None, client)
        except BaseException:
            await client.close()
            raise

    @classmethod
    async def open_with_client(
        cls,
        client: Client,
        *,
        database: str = "vigil",
        options: MongoOptions | None = None,
        features: ServerFeatures | None = None,
    ) -> MongoDatabase:
        """As `open`, on the caller's client. `features` skips the checks of the server
        (server.py): an emulator has no version or replica set to check."""
        return await cls._open(client[database], options or MongoOptions(), features, None)

    @classmethod
    async def _open(
        cls,
        db: Database,
        options: MongoOptions,
        features: ServerFeatures | None,
        client: Client | None,
    ) -> MongoDatabase:
        with unavailable("opening the store"):
            await db.command("ping")
            if features is None:
                features = await check_server(db)
            await migrate_layout(db, options)  # only one instance migrates; others wait
            retention = await settle_retention(db, options)
            catalogue = MongoCatalogue(db, options)
            await catalogue.load()
            marks = RollupMarks(db, options)
            await marks.load()
        return cls(db, catalogue, options, features, client, retention, marks)

    async def set_retention(self, seconds: int, *, by: str) -> None:
        """Store a new retention for every instance and apply it (retention.py); the
        instances running now use theirs until restarted."""
        with unavailable("changing the retention"):
            await set_retention(self._db, seconds, by=by)
        self.retention_seconds = seconds

    async def applied_retention(self) -> dict[str, int | None]:
        """The expiry of points and of what expires with them, as the server has it."""
        with unavailable("reading the retention"):
            return await applied_retention(self._db)

    async def close(self) -> None:
        """Close the client if this object made it; the stores fail as Unavailable after."""
        if self._closed:
            return
        self._closed = True
        if self._client is not None:
            await self._client.close()

    async def __aenter__(self) -> MongoDatabase:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def pick_database(client: Client, database: str | None) -> Database:
    """`database` when given, whatever the URL names (a test suite's own database must
    never become the URL's, which may be production's); else the URL's, else "vigil"."""
    if database is not None:
        return client.get_database(database)
    return client.get_default_database(default="vigil")
