"""Metric descriptions on DuckDB: one row per (project, name), replaced when it changes."""

from __future__ import annotations

import time
from collections.abc import Sequence

from domain.metrics.model import MetricDescription, MetricType
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["DESCRIPTIONS_TABLE", "DuckDBDescriptions"]

DESCRIPTIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS metric_descriptions (
        project     VARCHAR NOT NULL,
        name        VARCHAR NOT NULL,
        type        VARCHAR NOT NULL,
        help        VARCHAR NOT NULL,
        unit        VARCHAR NOT NULL,
        updated_at  TIMESTAMP NOT NULL,
        PRIMARY KEY (project, name)
    )
"""
_UPSERT = """
    INSERT INTO metric_descriptions SELECT
        $project, unnest($names::VARCHAR[]), unnest($types::VARCHAR[]),
        unnest($helps::VARCHAR[]), unnest($units::VARCHAR[]), make_timestamp($now)
    ON CONFLICT (project, name) DO UPDATE SET
        type = excluded.type, help = excluded.help, unit = excluded.unit,
        updated_at = excluded.updated_at
"""
_SELECT = """
    SELECT name, type, help, unit FROM metric_descriptions
    WHERE project = $project AND starts_with(name, $prefix) ORDER BY name LIMIT $limit
"""
_ALL = "SELECT project, name, type, help, unit FROM metric_descriptions"


class DuckDBDescriptions:
    """Writes only what changed: Prometheus resends every family's metadata each minute,
    and OTLP every description with every export. What is stored is remembered (loaded
    on first use; this process is the file's only writer)."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner
        self._stored: dict[tuple[str, str], MetricDescription] | None = None

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        stored = await self._known()
        changed = [d for d in descriptions if stored.get((project, d.name)) != d]
        if not changed:
            return
        await self._run.write(_upsert, project, changed)
        for description in changed:  # only once committed
            stored[project, description.name] = description

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        rows = await self._run.read(_select, project, prefix, max(limit, 0))
        return [_description(*row) for row in rows]

    async def _known(self) -> dict[tuple[str, str], MetricDescription]:
        if self._stored is None:
            rows = await self._run.read(lambda cur: cur.execute(_ALL).fetchall())
            self._stored = {(p, n): _description(n, t, h, u) for p, n, t, h, u in rows}
        return self._stored


@transaction
def _upsert(cur: Cursor, project: str, changed: Sequence[MetricDescription]) -> None:
    cur.execute(
        _UPSERT,
        {
            "project": project,
            "names": [d.name for d in changed],
            "types": [d.type.value if d.type is not None else "" for d in changed],
            "helps": [d.help for d in changed],
            "units": [d.unit for d in changed],
            "now": time.time_ns() // 1000,
        },
    )


def _select(cur: Cursor, project: str, prefix: str, limit: int) -> list[tuple[str, str, str, str]]:
    rows = cur.execute(_SELECT, {"project": project, "prefix": prefix, "limit": limit}).fetchall()
    return [(str(n), str(t), str(h), str(u)) for n, t, h, u in rows]


def _description(name: str, type_: str, help_: str, unit: str) -> MetricDescription:
    return MetricDescription(name, MetricType(type_) if type_ else None, help_, unit)
