"""NotificationStore on DuckDB: channels, policies, silences and deliveries.

Entities are kept as the JSON text of their `to_dict()` beside the columns queries
filter on. A delivery's claim lives in its columns (`claimed_by`, `claim_until_us`):
claiming is one UPDATE on the single writer thread, so two workers never hold the same
delivery (DuckDB lets one process write a file; the rule is the same as MongoDB's).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from domain.compliance.model import SecretsStatus
from domain.notifications import Channel, Delivery, DeliveryState, Policy, Silence
from infra.crypto import SecretCipher
from infra.stores.duckdb.runner import Cursor, Runner
from infra.stores.sealing import open_channel, reseal_channel, seal_channel, status_of

__all__ = ["NOTIFICATION_SCHEMA", "DuckDBNotificationStore"]

NOTIFICATION_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS notification_channels (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_policies (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_silences (
        id          VARCHAR PRIMARY KEY,
        project     VARCHAR NOT NULL,
        created_us  BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_deliveries (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        channel_id      VARCHAR NOT NULL,
        state           VARCHAR NOT NULL,
        next_attempt_us BIGINT NOT NULL,
        claimed_by      VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        created_us      BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
)
_DELIVERY = "doc, claimed_by, claim_until_us"
_CLAIM_DUE = f"""
    UPDATE notification_deliveries SET claimed_by = $owner, claim_until_us = $until
    WHERE id IN (
        SELECT id FROM notification_deliveries
        WHERE state = 'pending' AND next_attempt_us <= $now AND claim_until_us <= $now
        ORDER BY next_attempt_us, id
        LIMIT $limit
    )
    RETURNING {_DELIVERY}
"""
_CLAIM_ONE = f"""
    UPDATE notification_deliveries SET claimed_by = $owner, claim_until_us = $until
    WHERE id = $id AND project = $project AND state = 'pending'
        AND claim_until_us <= $now
    RETURNING {_DELIVERY}
"""
_FINISH = """
    UPDATE notification_deliveries SET state = $state, next_attempt_us = $next,
        claimed_by = '', claim_until_us = 0, doc = $doc
    WHERE id = $id AND claimed_by = $owner
    RETURNING id
"""


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _delivery(row: tuple[str, str, int]) -> Delivery:
    doc, claimed_by, claim_until_us = row
    found = Delivery.from_dict(json.loads(doc))
    return replace(found, claimed_by=claimed_by, claim_until_us=claim_until_us)


class DuckDBNotificationStore:
    """The NotificationStore port (domain.notifications.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner
        self.cipher: SecretCipher | None = None  # secrets sealed at rest (infra/stores/sealing)

    def use_cipher(self, cipher: SecretCipher) -> None:
        self.cipher = cipher

    # -- channels ----------------------------------------------------------------------------

    async def save_channel(self, channel: Channel, *, expected_version: int | None = None) -> bool:
        doc = seal_channel(self.cipher, channel.to_dict())
        return await self._run.write(_save_channel, channel, doc, expected_version)

    async def get_channel(self, project: str, channel_id: str) -> Channel | None:
        found = await self._run.read(
            _docs,
            "SELECT doc FROM notification_channels WHERE id = $id AND project = $project",
            {"id": channel_id, "project": project},
        )
        return Channel.from_dict(open_channel(self.cipher, found[0])) if found else None

    async def list_channels(self, project: str) -> list[Channel]:
        found = await self._run.read(
            _docs,
            "SELECT doc FROM notification_channels WHERE project = $project "
            "ORDER BY created_at_us, id",
            {"project": project},
        )
        return [Channel.from_dict(open_channel(self.cipher, doc)) for doc in found]

    async def secrets_status(self, project: str) -> SecretsStatus:
        """How the project's channels keep their secrets (the SecretsAtRest port)."""
        found = await self._run.read(
            _docs,
            "SELECT doc FROM notification_channels WHERE project = $project",
            {"project": project},
        )
        return status_of(self.cipher, found)

    async def reseal_all(self) -> int:
        """Seal every channel secret under the current key (plain ones included): what
        `vigil rotate-key` and each start run. The number of secrets sealed anew."""
        cipher = self.cipher
        if cipher is None:
            return 0
        found = await self._run.read(_docs, "SELECT doc FROM notification_channels", {})
        changed = 0
        for doc in found:
            resealed, count = reseal_channel(cipher, doc)
            if count:
                await self._run.write(
                    _execute,
                    "UPDATE notification_channels SET doc = $doc WHERE id = $id",
                    {"doc": _dumps(resealed), "id": doc["id"]},
                )
                changed += count
        return changed

    async def delete_channel(self, project: str, channel_id: str) -> bool:
        found = await self._run.write(
            _docs,
            "DELETE FROM notification_channels WHERE id = $id AND project = $project RETURNING id",
            {"id": channel_id, "project": project},
            raw=True,
        )
        return bool(found)

    # -- policies and silences ---------------------------------------------------------------

    async def save_policy(self, project: str, policy: Policy) -> None:
        await self._run.write(
            _execute,
            "INSERT OR REPLACE INTO notification_policies (project, version, doc) "
            "VALUES ($project, $version, $doc)",
            {"project": project, "version": policy.version, "doc": _dumps(policy.to_dict())},
        )

    async def get_policy(self, project: str) -> Policy | None:
        rows = await self._run.read(
            _rows,
            "SELECT doc, version FROM notification_policies WHERE project = $project",
            {"project": project},
        )
        return Policy.parse(json.loads(rows[0][0]), version=rows[0][1]) if rows else None

    async def save_silence(self, silence: Silence) -> None:
        await self._run.write(
            _execute,
            "INSERT OR REPLACE INTO notification_silences (id, project, created_us, doc) "
            "VALUES ($id, $project, $created, $doc)",
            {
                "id": silence.id,
                "project": silence.project,
                "created": silence.created_us,
                "doc": _dumps(silence.to_dict()),
            },
        )

    async def get_silence(self, project: str, silence_id: str) -> Silence | None:
        found = await self._run.read(
            _docs,
            "SELECT doc FROM notification_silences WHERE id = $id AND project = $project",
            {"id": silence_id, "project": project},
        )
        return Silence.from_dict(found[0]) if found else None

    async def list_silences(self, project: str) -> list[Silence]:
        found = await self._run.read(
            _docs,
            "SELECT doc FROM notification_silences WHERE project = $project "
            "ORDER BY created_us DESC, id DESC",
            {"project": project},
        )
        return [Silence.from_dict(doc) for doc in found]

    # -- deliveries --------------------------------------------------------------------------

    async def add_delivery(self, delivery: Delivery) -> None:
        await self._run.write(_add_delivery, delivery)

    async def claim_due(
        self, owner: str, *, now_us: int, until_us: int, limit: int
    ) -> list[Delivery]:
        params = {"owner": owner, "until": until_us, "now": now_us, "limit": limit}
        rows = await self._run.write(_rows, _CLAIM_DUE, params)
        return sorted((_delivery(r) for r in rows), key=lambda d: (d.next_attempt_us, d.id))

    async def claim(
        self, project: str, delivery_id: str, owner: str, *, now_us: int, until_us: int
    ) -> Delivery | None:
        params = {
            "owner": owner,
            "until": until_us,
            "now": now_us,
            "id": delivery_id,
            "project": project,
        }
        rows = await self._run.write(_rows, _CLAIM_ONE, params)
        return _delivery(rows[0]) if rows else None

    async def finish(self, delivery: Delivery, owner: str) -> bool:
        params = {
            "state": delivery.state.value,
            "next": delivery.next_attempt_us,
            "doc": _dumps(delivery.to_dict()),
            "id": delivery.id,
            "owner": owner,
        }
        return bool(await self._run.write(_rows, _FINISH, params))

    async def get_delivery(self, project: str, delivery_id: str) -> Delivery | None:
        rows = await self._run.read(
            _rows,
            f"SELECT {_DELIVERY} FROM notification_deliveries "
            "WHERE id = $id AND project = $project",
            {"id": delivery_id, "project": project},
        )
        return _delivery(rows[0]) if rows else None

    async def list_deliveries(
        self,
        project: str,
        *,
        state: DeliveryState | None = None,
        channel_id: str | None = None,
        first: int = 100,
    ) -> list[Delivery]:
        where = ["project = $project"]
        params: dict[str, Any] = {"project": project, "limit": first}
        if state is not None:
            where.append("state = $state")
            params["state"] = state.value
        if channel_id is not None:
            where.append("channel_id = $channel")
            params["channel"] = channel_id
        rows = await self._run.read(
            _rows,
            f"SELECT {_DELIVERY} FROM notification_deliveries WHERE {' AND '.join(where)} "
            "ORDER BY created_us DESC, id DESC LIMIT $limit",
            params,
        )
        return [_delivery(r) for r in rows]


def _rows(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Any]:
    return cur.execute(sql, params).fetchall()


def _execute(cur: Cursor, sql: str, params: dict[str, Any]) -> None:
    cur.execute(sql, params)


def _docs(cur: Cursor, sql: str, params: dict[str, Any], *, raw: bool = False) -> list[Any]:
    rows = cur.execute(sql, params).fetchall()
    return rows if raw else [json.loads(doc) for (doc,) in rows]


def _save_channel(
    cur: Cursor, channel: Channel, doc: dict[str, Any], expected_version: int | None
) -> bool:
    params: dict[str, Any] = {
        "id": channel.id,
        "project": channel.project,
        "created": channel.created_at_us,
        "version": channel.version,
        "doc": _dumps(doc),
    }
    if expected_version is None:
        sql = """
            INSERT INTO notification_channels (id, project, created_at_us, version, doc)
            VALUES ($id, $project, $created, $version, $doc)
            ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc
            WHERE notification_channels.project = excluded.project
            RETURNING id
        """
    else:
        params["expected"] = expected_version
        del params["created"]
        sql = """
            UPDATE notification_channels SET version = $version, doc = $doc
            WHERE id = $id AND project = $project AND version = $expected
            RETURNING id
        """
    return bool(cur.execute(sql, params).fetchall())


def _add_delivery(cur: Cursor, delivery: Delivery) -> None:
    cur.execute(
        """
        INSERT INTO notification_deliveries (id, project, channel_id, state, next_attempt_us,
            claimed_by, claim_until_us, created_us, doc)
        VALUES ($id, $project, $channel, $state, $next, $owner, $until, $created, $doc)
        """,
        {
            "id": delivery.id,
            "project": delivery.project,
            "channel": delivery.channel_id,
            "state": delivery.state.value,
            "next": delivery.next_attempt_us,
            "owner": delivery.claimed_by,
            "until": delivery.claim_until_us,
            "created": delivery.created_us,
            "doc": _dumps(delivery.to_dict()),
        },
    )
