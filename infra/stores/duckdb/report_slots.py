"""ReportSlotStore on DuckDB: one row per (project, report, slot); a claim and its
take-over are one statement on the single writer thread."""

from __future__ import annotations

import json
from typing import Any

from domain.reports.slots import SlotClaim
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["REPORT_SLOTS_SCHEMA", "DuckDBReportSlotStore"]

REPORT_SLOTS_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS report_slots (
        project         VARCHAR NOT NULL,
        report_id       VARCHAR NOT NULL,
        slot_us         BIGINT NOT NULL,
        owner           VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        finished_us     BIGINT,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, report_id, slot_us)
    )
    """,
)

_CLAIM = """
    INSERT INTO report_slots (project, report_id, slot_us, owner, claim_until_us,
        finished_us, doc)
    VALUES ($project, $report, $slot, $owner, $until, NULL, $doc)
    ON CONFLICT (project, report_id, slot_us) DO UPDATE SET owner = excluded.owner,
        claim_until_us = excluded.claim_until_us, doc = excluded.doc
    WHERE report_slots.finished_us IS NULL AND report_slots.claim_until_us <= $now
    RETURNING slot_us
"""
_FINISH = """
    UPDATE report_slots SET finished_us = $finished, doc = $doc
    WHERE project = $project AND report_id = $report AND slot_us = $slot
        AND owner = $owner AND finished_us IS NULL
    RETURNING slot_us
"""


def _rows(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Any]:
    return cur.execute(sql, params).fetchall()


def _params(claim: SlotClaim) -> dict[str, Any]:
    return {
        "project": claim.project,
        "report": claim.report_id,
        "slot": claim.slot_us,
        "owner": claim.owner,
        "doc": json.dumps(claim.to_dict(), separators=(",", ":")),
    }


class DuckDBReportSlotStore:
    """The ReportSlotStore port (domain.reports.slots) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def claim_slot(self, claim: SlotClaim, *, until_us: int) -> bool:
        params = {**_params(claim), "until": until_us, "now": claim.claimed_us}
        return bool(await self._run.write(_rows, _CLAIM, params))

    async def finish_slot(self, claim: SlotClaim) -> bool:
        params = {**_params(claim), "finished": claim.finished_us or claim.claimed_us}
        return bool(await self._run.write(_rows, _FINISH, params))

    async def last_slot(self, project: str, report_id: str) -> int | None:
        rows = await self._run.read(
            _rows,
            "SELECT max(slot_us) FROM report_slots WHERE project = $p AND report_id = $r",
            {"p": project, "r": report_id},
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def last_slots(self) -> dict[tuple[str, str], int]:
        rows = await self._run.read(
            _rows,
            "SELECT project, report_id, max(slot_us) FROM report_slots GROUP BY project, report_id",
            {},
        )
        return {(p, r): int(s) for p, r, s in rows}

    async def lapsed_slots(self, now_us: int, *, first: int = 100) -> list[SlotClaim]:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM report_slots WHERE finished_us IS NULL AND claim_until_us <= $now"
            " ORDER BY slot_us, project, report_id LIMIT $first",
            {"now": now_us, "first": first},
        )
        return [SlotClaim.from_dict(json.loads(doc)) for (doc,) in rows]

    async def slot_claims(self, project: str, report_id: str, *, first: int) -> list[SlotClaim]:
        rows = await self._run.read(
            _rows,
            "SELECT doc FROM report_slots WHERE project = $p AND report_id = $r"
            " ORDER BY slot_us DESC LIMIT $first",
            {"p": project, "r": report_id, "first": first},
        )
        return [SlotClaim.from_dict(json.loads(doc)) for (doc,) in rows]

    async def prune_slots(self, before_us: int) -> int:
        rows = await self._run.write(
            _rows,
            "DELETE FROM report_slots AS r WHERE r.finished_us IS NOT NULL"
            " AND r.slot_us < $before AND r.slot_us < (SELECT max(s.slot_us) FROM report_slots"
            " AS s WHERE s.project = r.project AND s.report_id = r.report_id) RETURNING slot_us",
            {"before": before_us},
        )
        return len(rows)

    async def forget_slots(self, project: str, report_id: str) -> int:
        rows = await self._run.write(
            _rows,
            "DELETE FROM report_slots WHERE project = $p AND report_id = $r RETURNING slot_us",
            {"p": project, "r": report_id},
        )
        return len(rows)
