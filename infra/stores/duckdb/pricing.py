"""Cost pricing on DuckDB: each project's price table and mapping, one row holding its
document as JSON text, replaced by compare-and-set on its version."""

from __future__ import annotations

import json
from contextlib import suppress

import duckdb

from domain.cost.model import Pricing
from infra.stores.duckdb.faults import commit
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["PRICING_SCHEMA", "DuckDBPricingStore"]

# Layout 12 (migrations.py holds the frozen copy in layout_steps.py).
PRICING_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS cost_pricing (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
)


class DuckDBPricingStore:
    """The PricingStore port (domain.cost.ports)."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def get_pricing(self, project: str) -> Pricing | None:
        rows = await self._run.read(
            lambda cur: cur.execute(
                "SELECT doc FROM cost_pricing WHERE project = $p", {"p": project}
            ).fetchall()
        )
        return Pricing.from_dict(json.loads(rows[0][0])) if rows else None

    async def save_pricing(self, pricing: Pricing, *, expected_version: int) -> bool:
        return await self._run.write(_save, pricing, expected_version)

    async def pricings(self) -> list[Pricing]:
        every = "SELECT doc FROM cost_pricing ORDER BY project"
        rows = await self._run.read(lambda cur: cur.execute(every).fetchall())
        return [Pricing.from_dict(json.loads(doc)) for (doc,) in rows]


def _save(cur: Cursor, pricing: Pricing, expected_version: int) -> bool:
    doc = json.dumps(pricing.to_dict(), sort_keys=True)
    cur.begin()
    try:
        rows = cur.execute(
            "SELECT version FROM cost_pricing WHERE project = $p", {"p": pricing.project}
        ).fetchall()
        stored = int(rows[0][0]) if rows else 0
        if stored != expected_version:
            cur.rollback()
            return False
        cur.execute(
            """
            INSERT INTO cost_pricing VALUES ($p, $v, $doc)
            ON CONFLICT (project) DO UPDATE SET version = excluded.version, doc = excluded.doc
            """,
            {"p": pricing.project, "v": pricing.version, "doc": doc},
        )
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return True
