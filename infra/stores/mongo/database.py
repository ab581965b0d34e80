"""One MongoDB database holding metrics, the audit log and alerting: open, use, close."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from domain.errors import Unavailable
from infra.stores.mongo.alerts import MongoAlertStore
from infra.stores.mongo.anomalies import MongoAnomalyStore
from infra.stores.mongo.audit import MongoAuditStore
from infra.stores.mongo.catalogue import MongoCatalogue
from infra.stores.mongo.dashboards import MongoDashboardStore
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.incidents import MongoIncidentStore
from infra.stores.mongo.leases import MongoLeaseStore
from infra.stores.mongo.metrics import MongoMetricStore
from infra.stores.mongo.migrations import migrate_layout
from infra.stores.mongo.notifications import MongoNotificationStore
from infra.stores.mongo.options import MongoOptions, ServerFeatures
from infra.stores.mongo.schema import Database, apply_settings

__all__ = ["MongoDatabase"]

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
    ) -> None:
        self.name = db.name
        self.options = options
        self.features = features
        self.metrics = MongoMetricStore(db, catalogue, options, features, self.close)
        self.audit = MongoAuditStore(db, options)
        self.alerts = MongoAlertStore(db, options)
        self.leases = MongoLeaseStore(db, options)
        self.dashboards = MongoDashboardStore(db, options)
        self.notifications = MongoNotificationStore(db, options)
        self.anomalies = MongoAnomalyStore(db, options)
        self.incidents = MongoIncidentStore(db, options)
        self._client = client
        self._closed = False

    @classmethod
    async def open(
        cls, url: str, *, database: str | None = None, options: MongoOptions | None = None
    ) -> MongoDatabase:
        """Connect, check the server, create or migrate the layout and load the catalogue.

        `database` defaults to the one named in the URL, else "vigil". A server that
        cannot be reached raises `Unavailable` after the server selection timeout; so does
        a database written by a newer Vigil, which is left as it was (migrations.py).
        """
        options = options or MongoOptions()
        try:
            client: Client = AsyncMongoClient(
                url,
                appname="vigil",
                tz_aware=False,
                serverSelectionTimeoutMS=options.server_selection_timeout_ms,
                connectTimeoutMS=options.connect_timeout_ms,
                socketTimeoutMS=options.socket_timeout_ms,
            )
            db = client.get_default_database(default=database or "vigil")
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
        """As `open`, on the caller's client. `features` skips asking the server what it
        runs (an emulator that lacks operators says so here)."""
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
                try:
                    features = ServerFeatures.of(await db.command("buildInfo"))
                except ValueError as exc:
                    raise Unavailable(f"MongoDB: {exc}") from None
            await migrate_layout(db, options)  # only one instance migrates; others wait
            await apply_settings(db, options)
            catalogue = MongoCatalogue(db, options.catalogue_refresh_seconds)
            await catalogue.load()
        return cls(db, catalogue, options, features, client)

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
