"""AnomalyStore on DuckDB: detections, detector states, anomalies and band rows.

Anomalies and band rows have no key: an index would grow with every row (DuckDB keeps
them in memory), and each is written once by the process running its detector. A
minute written twice (a restart mid-minute) is two partial rows, averaged by points.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import orjson

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.records import AnomalyRecord, BandRow
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["ANOMALY_SCHEMA", "DuckDBAnomalyStore"]

# Layout 3 (migrations.py holds the frozen copy).
ANOMALY_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS anomaly_detections (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        enabled         BOOLEAN NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomaly_detectors (
        key         VARCHAR PRIMARY KEY,
        placement   VARCHAR NOT NULL,
        state       VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomalies (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        series_id   BIGINT NOT NULL,
        ts_us       BIGINT NOT NULL,
        score       DOUBLE NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomaly_bands (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        series_id   BIGINT NOT NULL,
        bucket_us   BIGINT NOT NULL,
        tags        VARCHAR NOT NULL,
        baseline    DOUBLE NOT NULL,
        lower       DOUBLE NOT NULL,
        upper       DOUBLE NOT NULL,
        points      INTEGER NOT NULL
    )
    """,
)

_UPSERT_DETECTION = """
    INSERT INTO anomaly_detections VALUES ($id, $project, $enabled, $created, $version, $doc)
    ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, version = excluded.version,
        doc = excluded.doc
    WHERE anomaly_detections.project = excluded.project
    RETURNING id
"""
_COMPARE_AND_SET = """
    UPDATE anomaly_detections SET enabled = $enabled, version = $version, doc = $doc
    WHERE id = $id AND project = $project AND version = $expected
    RETURNING id
"""
_SAVE_STATES = """
    INSERT INTO anomaly_detectors (key, placement, state)
    SELECT unnest($keys::VARCHAR[]), unnest($placements::VARCHAR[]), unnest($states::VARCHAR[])
    ON CONFLICT (key) DO UPDATE SET placement = excluded.placement, state = excluded.state
"""


class DuckDBAnomalyStore:
    """The AnomalyStore port (domain.anomaly.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def save_detection(
        self, detection: AnomalyDetection, *, expected_version: int | None = None
    ) -> bool:
        return await self._run.write(_save_detection, detection, expected_version)

    async def get_detection(self, project: str, detection_id: str) -> AnomalyDetection | None:
        found = await self._run.read(
            _detections,
            "WHERE id = $id AND project = $project",
            {"id": detection_id, "project": project},
        )
        return found[0] if found else None

    async def list_detections(self, project: str) -> list[AnomalyDetection]:
        return await self._run.read(_detections, "WHERE project = $project", {"project": project})

    async def enabled_detections(self) -> list[AnomalyDetection]:
        return await self._run.read(_detections, "WHERE enabled", {})

    async def save_detector_states(self, states: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        if states:
            await self._run.write(_save_states, dict(states))

    async def load_detector_states(self, placements: Collection[str]) -> dict[str, dict[str, Any]]:
        if not placements:
            return {}
        return await self._run.read(_load_states, list(placements))

    async def add_anomalies(self, records: list[AnomalyRecord]) -> None:
        if records:
            await self._run.write(_add_anomalies, records)

    async def list_anomalies(
        self,
        project: str,
        metric: str,
        *,
        start_us: int,
        end_us: int,
        min_score: float,
        before: tuple[int, int] | None,
        first: int,
    ) -> list[AnomalyRecord]:
        return await self._run.read(
            _list_anomalies, project, metric, start_us, end_us, min_score, before, first
        )

    async def add_band_rows(self, rows: list[BandRow]) -> None:
        if rows:
            await self._run.write(_add_band_rows, rows)

    async def band_rows(
        self, project: str, metric: str, *, start_us: int, end_us: int
    ) -> list[BandRow]:
        return await self._run.read(_band_rows, project, metric, start_us, end_us)

    async def prune(self, before_us: int) -> None:
        await self._run.write(_prune, before_us)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


@transaction
def _save_detection(cur: Cursor, d: AnomalyDetection, expected: int | None) -> bool:
    params = {
        "id": d.id,
        "project": d.project,
        "enabled": d.enabled,
        "version": d.version,
        "doc": _dumps(d.to_dict()),
    }
    if expected is None:
        params["created"] = d.created_at_us
        return bool(cur.execute(_UPSERT_DETECTION, params).fetchall())
    params["expected"] = expected
    return bool(cur.execute(_COMPARE_AND_SET, params).fetchall())


def _detections(cur: Cursor, where: str, params: dict[str, Any]) -> list[AnomalyDetection]:
    rows = cur.execute(
        f"SELECT doc FROM anomaly_detections {where} ORDER BY created_at_us, id", params
    ).fetchall()
    return [AnomalyDetection.from_dict(json.loads(doc)) for (doc,) in rows]


def _save_states(cur: Cursor, states: dict[str, tuple[str, dict[str, Any]]]) -> None:
    # Encoded here, on the writer thread: a checkpoint of 1,000 detectors is ~4 MB of JSON
    # (orjson: 11 ms against json's 100 ms). States hold no NaN (unseen slots are None).
    cur.execute(
        _SAVE_STATES,
        {
            "keys": list(states),
            "placements": [placement for placement, _ in states.values()],
            "states": [orjson.dumps(state).decode() for _, state in states.values()],
        },
    )


def _load_states(cur: Cursor, placements: list[str]) -> dict[str, dict[str, Any]]:
    rows = cur.execute(
        "SELECT key, state FROM anomaly_detectors WHERE list_contains($p::VARCHAR[], placement)",
        {"p": placements},
    ).fetchall()
    return {key: json.loads(state) for key, state in rows}


def _add_anomalies(cur: Cursor, records: list[AnomalyRecord]) -> None:
    cur.execute(
        """
        INSERT INTO anomalies
        SELECT unnest($projects::VARCHAR[]), unnest($metrics::VARCHAR[]),
            unnest($series::BIGINT[]), unnest($ts::BIGINT[]), unnest($scores::DOUBLE[]),
            unnest($docs::VARCHAR[])
        """,
        {
            "projects": [r.project for r in records],
            "metrics": [r.metric for r in records],
            "series": [r.series_id for r in records],
            "ts": [r.timestamp_us for r in records],
            "scores": [r.score for r in records],
            "docs": [_dumps(r.to_dict()) for r in records],
        },
    )


def _list_anomalies(
    cur: Cursor,
    project: str,
    metric: str,
    start_us: int,
    end_us: int,
    min_score: float,
    before: tuple[int, int] | None,
    first: int,
) -> list[AnomalyRecord]:
    params: dict[str, Any] = {
        "project": project,
        "metric": metric,
        "start": start_us,
        "end": end_us,
        "score": min_score,
        "first": first,
    }
    after = ""
    if before is not None:
        after = "AND (ts_us, series_id) < ($bts, $bsid)"
        params |= {"bts": before[0], "bsid": before[1]}
    rows = cur.execute(
        f"""
        SELECT any_value(doc) FROM anomalies
        WHERE project = $project AND metric = $metric AND ts_us >= $start AND ts_us < $end
            AND score >= $score {after}
        GROUP BY ts_us, series_id
        ORDER BY ts_us DESC, series_id DESC LIMIT $first
        """,
        params,
    ).fetchall()
    return [AnomalyRecord.from_dict(json.loads(doc)) for (doc,) in rows]


def _add_band_rows(cur: Cursor, rows: list[BandRow]) -> None:
    cur.execute(
        """
        INSERT INTO anomaly_bands
        SELECT unnest($projects::VARCHAR[]), unnest($metrics::VARCHAR[]),
            unnest($series::BIGINT[]), unnest($buckets::BIGINT[]), unnest($tags::VARCHAR[]),
            unnest($baseline::DOUBLE[]), unnest($lower::DOUBLE[]), unnest($upper::DOUBLE[]),
            unnest($points::INTEGER[])
        """,
        {
            "projects": [r.project for r in rows],
            "metrics": [r.metric for r in rows],
            "series": [r.series_id for r in rows],
            "buckets": [r.bucket_us for r in rows],
            "tags": [_dumps(dict(r.tags)) for r in rows],
            "baseline": [r.baseline for r in rows],
            "lower": [r.lower for r in rows],
            "upper": [r.upper for r in rows],
            "points": [r.points for r in rows],
        },
    )


def _band_rows(cur: Cursor, project: str, metric: str, start_us: int, end_us: int) -> list[BandRow]:
    rows = cur.execute(
        """
        SELECT series_id, bucket_us, tags, baseline, lower, upper, points FROM anomaly_bands
        WHERE project = $project AND metric = $metric AND bucket_us >= $start
            AND bucket_us < $end
        ORDER BY bucket_us, series_id
        """,
        {"project": project, "metric": metric, "start": start_us, "end": end_us},
    ).fetchall()
    return [
        BandRow(project, metric, sid, json.loads(tags), bucket, base, lo, hi, points)
        for sid, bucket, tags, base, lo, hi, points in rows
    ]


@transaction
def _prune(cur: Cursor, before_us: int) -> None:
    cur.execute("DELETE FROM anomalies WHERE ts_us < $b", {"b": before_us})
    cur.execute("DELETE FROM anomaly_bands WHERE bucket_us < $b", {"b": before_us})
