"""UsageStore on DuckDB: counted minutes, grouped at read time by joining the series
catalogue, the read log, and the rows each tier holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.usage.meter import MinuteCounts
from domain.usage.model import USAGE_SOURCE, CounterRow, NewSeriesRow, SeriesUsageRow, StoredRows
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["USAGE_SCHEMA", "DuckDBUsageStore"]

# The layout step "usage analytics" (layout_usage.USAGE, layout 15) holds the frozen copy.
USAGE_SCHEMA = (
    # One row per project, minute, series and instance that counted it: rows add up.
    """
    CREATE TABLE IF NOT EXISTS usage_series (
        project     VARCHAR NOT NULL,
        minute_us   BIGINT NOT NULL,
        series_id   BIGINT NOT NULL,
        points      BIGINT NOT NULL
    )
    """,
    # Counters add up likewise; a gauge (bytes per tier) has one row per minute.
    """
    CREATE TABLE IF NOT EXISTS usage_counters (
        project     VARCHAR NOT NULL,
        minute_us   BIGINT NOT NULL,
        figure      VARCHAR NOT NULL,
        value       DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_progress (
        name        VARCHAR PRIMARY KEY,
        minute_us   BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_reads (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        read_us     BIGINT NOT NULL,
        PRIMARY KEY (project, metric)
    )
    """,
)

_INSERT_SERIES = """
    INSERT INTO usage_series SELECT
        unnest($projects::VARCHAR[]), unnest($minutes::BIGINT[]), unnest($ids::BIGINT[]),
        unnest($points::BIGINT[])
"""
_INSERT_COUNTERS = """
    INSERT INTO usage_counters SELECT
        unnest($projects::VARCHAR[]), unnest($minutes::BIGINT[]), unnest($figures::VARCHAR[]),
        unnest($values::DOUBLE[])
"""
_UPSERT_READS = """
    INSERT INTO usage_reads SELECT
        unnest($projects::VARCHAR[]), unnest($metrics::VARCHAR[]), unnest($reads::BIGINT[])
    ON CONFLICT (project, metric) DO UPDATE SET read_us = greatest(read_us, excluded.read_us)
"""
_TIER_TABLES = {"raw": "points", "1m": "rollup_1m", "1h": "rollup_1h"}


class DuckDBUsageStore:
    """The UsageStore port (domain.usage.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def record(self, minutes: Sequence[MinuteCounts]) -> None:
        series: dict[str, list[Any]] = {"projects": [], "minutes": [], "ids": [], "points": []}
        counters: dict[str, list[Any]] = {
            "projects": [],
            "minutes": [],
            "figures": [],
            "values": [],
        }
        reads: dict[tuple[str, str], int] = {}
        for minute in minutes:
            for project, counts in minute.points.items():
                series["projects"] += [project] * len(counts)
                series["minutes"] += [minute.minute_us] * len(counts)
                series["ids"] += list(counts)
                series["points"] += list(counts.values())
            for (project, figure), value in minute.counters.items():
                counters["projects"].append(project)
                counters["minutes"].append(minute.minute_us)
                counters["figures"].append(figure)
                counters["values"].append(value)
            for key, at in minute.reads.items():
                reads[key] = max(at, reads.get(key, at))
        read_rows: dict[str, list[Any]] = {
            "projects": [p for p, _ in reads],
            "metrics": [m for _, m in reads],
            "reads": list(reads.values()),
        }
        await self._run.write(_record, series, counters, read_rows)

    async def set_gauges(self, minute_us: int, values: dict[tuple[str, str], float]) -> None:
        await self._run.write(_set_gauges, minute_us, values)

    async def series_usage(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[SeriesUsageRow]:
        groups, params = _groups(group_by)
        params |= {"project": project, "start": start_us, "end": end_us, "step": step_us}
        sql = f"""
            SELECT u.minute_us // $step * $step AS bucket,
                   {groups} AS grp, sum(u.points), count(DISTINCT u.series_id)
            FROM usage_series u
            LEFT JOIN series s ON s.project = u.project AND s.id = u.series_id
            WHERE u.project = $project AND u.minute_us >= $start AND u.minute_us < $end
            GROUP BY ALL ORDER BY ALL
        """
        rows = await self._run.read(_fetch, sql, params)
        return [SeriesUsageRow(int(b), tuple(g), int(p), int(n)) for b, g, p, n in rows]

    async def new_series(
        self, project: str, start_us: int, end_us: int, step_us: int, group_by: Sequence[str]
    ) -> list[NewSeriesRow]:
        groups, params = _groups(group_by)
        params |= {"project": project, "start": start_us, "end": end_us, "step": step_us}
        params["own"] = USAGE_SOURCE
        sql = f"""
            SELECT epoch_us(s.first_seen) // $step * $step AS bucket,
                   {groups} AS grp, count(*)
            FROM series s
            WHERE s.project = $project AND epoch_us(s.first_seen) >= $start
              AND epoch_us(s.first_seen) < $end AND s.source != $own
            GROUP BY ALL ORDER BY ALL
        """
        rows = await self._run.read(_fetch, sql, params)
        return [NewSeriesRow(int(b), tuple(g), int(n)) for b, g, n in rows]

    async def counters(
        self, project: str, start_us: int, end_us: int, step_us: int
    ) -> list[CounterRow]:
        sql = """
            SELECT minute_us // $step * $step AS bucket, figure,
                   sum(value), arg_max(value, minute_us)
            FROM usage_counters
            WHERE project = $project AND minute_us >= $start AND minute_us < $end
            GROUP BY ALL ORDER BY ALL
        """
        params = {"project": project, "start": start_us, "end": end_us, "step": step_us}
        rows = await self._run.read(_fetch, sql, params)
        return [CounterRow(int(b), str(f), float(t), float(last)) for b, f, t, last in rows]

    async def usage_projects(self, start_us: int, end_us: int) -> list[str]:
        sql = """
            SELECT project FROM usage_series WHERE minute_us >= $start AND minute_us < $end
            UNION SELECT project FROM usage_counters
            WHERE minute_us >= $start AND minute_us < $end ORDER BY 1
        """
        rows = await self._run.read(_fetch, sql, {"start": start_us, "end": end_us})
        return [str(p) for (p,) in rows]

    async def projects(self) -> list[str]:
        rows = await self._run.read(_fetch, "SELECT DISTINCT project FROM series ORDER BY 1", {})
        return [str(p) for (p,) in rows]

    async def catalogue(
        self, project: str, metric: str | None = None
    ) -> list[tuple[str, dict[str, str], int]]:
        sql = "SELECT name, tags, epoch_us(first_seen) FROM series WHERE project = $project"
        params: dict[str, Any] = {"project": project}
        if metric is not None:
            sql += " AND name = $metric"
            params["metric"] = metric
        rows = await self._run.read(_fetch, sql, params)
        return [(str(n), dict(tags), int(first)) for n, tags, first in rows]

    async def last_reads(self, project: str) -> dict[str, int]:
        sql = "SELECT metric, read_us FROM usage_reads WHERE project = $project"
        rows = await self._run.read(_fetch, sql, {"project": project})
        return {str(m): int(at) for m, at in rows}

    async def stored_rows(self, project: str | None) -> list[StoredRows]:
        found: list[StoredRows] = []
        mine = "" if project is None else "WHERE s.project = $project"
        params = {} if project is None else {"project": project}
        for tier, table in _TIER_TABLES.items():
            # Rows per series first: the join then meets one row per series, not per point.
            sql = f"""
                SELECT s.project, s.name, sum(t.n) FROM
                    (SELECT series_id, count(*) AS n FROM {table} GROUP BY 1) t
                JOIN series s ON s.id = t.series_id {mine}
                GROUP BY 1, 2 ORDER BY 1, 2
            """
            rows = await self._run.read(_fetch, sql, params)
            found += [StoredRows(str(name), tier, int(n), str(p)) for p, name, n in rows]
        return found

    async def series_written(self) -> int:
        sql = "SELECT minute_us FROM usage_progress WHERE name = 'series'"
        rows = await self._run.read(_fetch, sql, {})
        return int(rows[0][0]) if rows else 0

    async def mark_series_written(self, minute_us: int) -> None:
        await self._run.write(_mark_written, minute_us)

    async def forget_usage(self, before_us: int) -> int:
        return await self._run.write(_forget, before_us)


def _groups(group_by: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The SQL list of the group's tag values ('' where a series lacks the tag)."""
    params = {f"g{i}": key for i, key in enumerate(group_by)}
    values = [f"coalesce(map_extract(s.tags, $g{i})[1], '')" for i in range(len(group_by))]
    return f"[{', '.join(values)}]::VARCHAR[]", params


def _fetch(cur: Cursor, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return cur.execute(sql, params).fetchall()


@transaction
def _record(
    cur: Cursor,
    series: dict[str, list[Any]],
    counters: dict[str, list[Any]],
    reads: dict[str, list[Any]],
) -> None:
    if series["ids"]:
        cur.execute(_INSERT_SERIES, series)
    if counters["figures"]:
        cur.execute(_INSERT_COUNTERS, counters)
    if reads["metrics"]:
        cur.execute(_UPSERT_READS, reads)


@transaction
def _set_gauges(cur: Cursor, minute_us: int, values: dict[tuple[str, str], float]) -> None:
    for (project, figure), value in values.items():
        params = {"project": project, "minute": minute_us, "figure": figure}
        cur.execute(
            "DELETE FROM usage_counters"
            " WHERE project = $project AND minute_us = $minute AND figure = $figure",
            params,
        )
        cur.execute(
            "INSERT INTO usage_counters VALUES ($project, $minute, $figure, $value)",
            params | {"value": value},
        )


def _mark_written(cur: Cursor, minute_us: int) -> None:
    cur.execute(
        "INSERT INTO usage_progress VALUES ('series', $m) ON CONFLICT (name)"
        " DO UPDATE SET minute_us = greatest(minute_us, excluded.minute_us)",
        {"m": minute_us},
    )


@transaction
def _forget(cur: Cursor, before_us: int) -> int:
    gone = 0
    for table in ("usage_series", "usage_counters"):
        row = cur.execute(
            f"DELETE FROM {table} WHERE minute_us < $before RETURNING 1", {"before": before_us}
        ).fetchall()
        gone += len(row)
    return gone
