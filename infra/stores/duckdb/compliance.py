"""ComplianceStore on DuckDB: audit checkpoints, access seen, reviews, revocations, runs.

Documents are the JSON text of each value's `to_dict()`, beside the columns queries filter
on. Every decision two callers could race (a review at a version, a run's claim) is one
statement on the single writer thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    ComplianceRun,
    Revocation,
    RevocationKind,
)
from domain.system.model import Checkpoint
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["COMPLIANCE_SCHEMA", "DuckDBComplianceStore"]

COMPLIANCE_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS audit_checkpoints (
        project     VARCHAR NOT NULL,
        chain_index BIGINT NOT NULL,
        hash        VARCHAR NOT NULL,
        at_us       BIGINT NOT NULL,
        key_id      VARCHAR NOT NULL,
        signature   VARCHAR NOT NULL,
        PRIMARY KEY (project, chain_index)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS access_usage (
        project     VARCHAR NOT NULL,
        subject     VARCHAR NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (project, subject)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS access_reviews (
        id          VARCHAR PRIMARY KEY,
        project     VARCHAR NOT NULL,
        started_us  BIGINT NOT NULL,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS revocations (
        project     VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        value       VARCHAR NOT NULL,
        at_us       BIGINT NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (project, kind, value)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS compliance_runs (
        project         VARCHAR NOT NULL,
        slot            VARCHAR NOT NULL,
        owner           VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        finished_us     BIGINT,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, slot)
    )
    """,
)
_CHECKPOINT = "project, chain_index, hash, at_us, key_id, signature"
_CLAIM = """
    INSERT INTO compliance_runs (project, slot, owner, claim_until_us, finished_us, doc)
    VALUES ($project, $slot, $owner, $until, NULL, $doc)
    ON CONFLICT (project, slot) DO UPDATE SET owner = excluded.owner,
        claim_until_us = excluded.claim_until_us, doc = excluded.doc
    WHERE compliance_runs.finished_us IS NULL AND compliance_runs.claim_until_us <= $now
    RETURNING slot
"""
_FINISH = """
    UPDATE compliance_runs SET finished_us = $finished, doc = $doc
    WHERE project = $project AND slot = $slot AND owner = $owner AND finished_us IS NULL
    RETURNING slot
"""


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _rows(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Any]:
    return cur.execute(sql, params).fetchall()


class DuckDBComplianceStore:
    """The ComplianceStore port (domain.compliance.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    # -- checkpoints -------------------------------------------------------------------------

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        await self._run.write(
            _rows,
            f"INSERT OR REPLACE INTO audit_checkpoints ({_CHECKPOINT})"
            " VALUES ($p, $n, $h, $at, $key, $sig) RETURNING project",
            {
                "p": c.project,
                "n": c.chain_index,
                "h": c.hash,
                "at": c.at_us,
                "key": c.key_id,
                "sig": c.signature,
            },
        )

    async def checkpoints(self, project: str) -> list[Checkpoint]:
        rows = await self._run.read(
            _rows,
            f"SELECT {_CHECKPOINT} FROM audit_checkpoints WHERE project = $p ORDER BY chain_index",
            {"p": project},
        )
        return [Checkpoint(*r) for r in rows]

    async def latest_checkpoint(self, project: str) -> Checkpoint | None:
        rows = await self._run.read(
            _rows,
            f"SELECT {_CHECKPOINT} FROM audit_checkpoints WHERE project = $p"
            " ORDER BY chain_index DESC LIMIT 1",
            {"p": project},
        )
        return Checkpoint(*rows[0]) if rows else None

    # -- access seen -------------------------------------------------------------------------

    async def record_usage(self, usages: Sequence[AccessUsage]) -> None:
        if usages:
            await self._run.write(_merge_usage, list(usages))

    async def usage(self, project: str) -> list[AccessUsage]:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM access_usage WHERE project = $p ORDER BY subject",
            {"p": project},
        )
        return [AccessUsage.from_dict(json.loads(doc)) for (doc,) in rows]

    # -- reviews -----------------------------------------------------------------------------

    async def save_review(self, review: AccessReview, *, expected_version: int | None) -> bool:
        params = {
            "id": review.id,
            "p": review.project,
            "started": review.started_us,
            "v": review.version,
            "doc": _dumps(review.to_dict()),
        }
        if expected_version is None:
            sql = (
                "INSERT INTO access_reviews (id, project, started_us, version, doc)"
                " VALUES ($id, $p, $started, $v, $doc) ON CONFLICT DO NOTHING RETURNING id"
            )
        else:
            params["expected"] = expected_version
            del params["started"]
            sql = (
                "UPDATE access_reviews SET version = $v, doc = $doc"
                " WHERE id = $id AND project = $p AND version = $expected RETURNING id"
            )
        return bool(await self._run.write(_rows, sql, params))

    async def get_review(self, project: str, review_id: str) -> AccessReview | None:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM access_reviews WHERE id = $id AND project = $p",
            {"id": review_id, "p": project},
        )
        return AccessReview.from_dict(json.loads(rows[0][0])) if rows else None

    async def list_reviews(self, project: str, *, first: int) -> list[AccessReview]:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM access_reviews WHERE project = $p"
            " ORDER BY started_us DESC, id DESC LIMIT $first",
            {"p": project, "first": first},
        )
        return [AccessReview.from_dict(json.loads(doc)) for (doc,) in rows]

    # -- revocations -------------------------------------------------------------------------

    async def add_revocation(self, revocation: Revocation) -> bool:
        r = revocation
        rows = await self._run.write(
            _rows,
            "INSERT INTO revocations (project, kind, value, at_us, doc)"
            " VALUES ($p, $kind, $value, $at, $doc) ON CONFLICT DO NOTHING RETURNING value",
            {
                "p": r.project,
                "kind": r.kind.value,
                "value": r.value,
                "at": r.at_us,
                "doc": _dumps(r.to_dict()),
            },
        )
        return bool(rows)

    async def remove_revocation(self, project: str, kind: RevocationKind, value: str) -> bool:
        rows = await self._run.write(
            _rows,
            "DELETE FROM revocations WHERE project = $p AND kind = $kind AND value = $value"
            " RETURNING value",
            {"p": project, "kind": kind.value, "value": value},
        )
        return bool(rows)

    async def revocations(self, project: str | None = None) -> list[Revocation]:
        where, params = ("WHERE project = $p", {"p": project}) if project is not None else ("", {})
        rows = await self._run.read(
            _rows, f"SELECT doc FROM revocations {where} ORDER BY at_us, value", params
        )
        return [Revocation.from_dict(json.loads(doc)) for (doc,) in rows]

    # -- runs --------------------------------------------------------------------------------

    async def claim_run(self, run: ComplianceRun, *, until_us: int) -> bool:
        params = {
            "project": run.project,
            "slot": run.slot,
            "owner": run.owner,
            "until": until_us,
            "now": run.started_us,
            "doc": _dumps(run.to_dict()),
        }
        return bool(await self._run.write(_rows, _CLAIM, params))

    async def finish_run(self, run: ComplianceRun) -> bool:
        params = {
            "project": run.project,
            "slot": run.slot,
            "owner": run.owner,
            "finished": run.finished_us,
            "doc": _dumps(run.to_dict()),
        }
        return bool(await self._run.write(_rows, _FINISH, params))

    async def list_runs(self, project: str, *, first: int) -> list[ComplianceRun]:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM compliance_runs WHERE project = $p AND finished_us IS NOT NULL"
            " ORDER BY finished_us DESC, slot DESC LIMIT $first",
            {"p": project, "first": first},
        )
        return [ComplianceRun.from_dict(json.loads(doc)) for (doc,) in rows]


@transaction
def _merge_usage(cur: Cursor, usages: list[AccessUsage]) -> None:
    for usage in usages:
        rows = cur.execute(
            "SELECT doc FROM access_usage WHERE project = $p AND subject = $s",
            {"p": usage.project, "s": usage.subject},
        ).fetchall()
        merged = AccessUsage.from_dict(json.loads(rows[0][0])).merge(usage) if rows else usage
        cur.execute(
            "INSERT OR REPLACE INTO access_usage (project, subject, doc) VALUES ($p, $s, $doc)",
            {"p": usage.project, "s": usage.subject, "doc": _dumps(merged.to_dict())},
        )
