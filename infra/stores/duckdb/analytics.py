"""AnalyticsJobStore on DuckDB: jobs as columns, result items in files beside the
database (result_files.py; rows in `analytics_results` from before are still read).

Every change a runner makes is one UPDATE on the single writer thread whose WHERE names
the state and the attempt (a compare-and-set), so a stale run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

from domain.analytics.model import AnalyticsInput, AnalyticsJob, JobState
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import Item, StoredItem
from domain.paging import Page
from infra.stores.duckdb.result_files import ResultFiles
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["ANALYTICS_SCHEMA", "DuckDBAnalyticsJobStore"]

ANALYTICS_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS analytics_jobs (
        id                  VARCHAR PRIMARY KEY,
        project             VARCHAR NOT NULL,
        kind                VARCHAR NOT NULL,
        state               VARCHAR NOT NULL,
        input               VARCHAR NOT NULL,
        created_us          BIGINT NOT NULL,
        created_by          VARCHAR NOT NULL,
        timeout_us          BIGINT NOT NULL,
        progress            DOUBLE NOT NULL,
        phase               VARCHAR NOT NULL,
        started_us          BIGINT,
        finished_us         BIGINT,
        error               VARCHAR,
        attempt             INTEGER NOT NULL,
        owner               VARCHAR NOT NULL,
        cancel_requested    BOOLEAN NOT NULL,
        expires_us          BIGINT,
        result_count        INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS analytics_results (
        job_id      VARCHAR NOT NULL,
        attempt     INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (job_id, attempt, seq)
    )
    """,
)

_COLUMNS = (
    "id, project, kind, state, input, created_us, created_by, timeout_us, progress, phase, "
    "started_us, finished_us, error, attempt, owner, cancel_requested, expires_us, result_count"
)
_LIVE = "(expires_us IS NULL OR expires_us > $now)"


def _row(job: AnalyticsJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "project": job.project,
        "kind": job.kind.value,
        "state": job.state.value,
        "input": json.dumps(job.input.to_dict(), separators=(",", ":")),
        "created_us": job.created_us,
        "created_by": job.created_by,
        "timeout_us": job.timeout_us,
        "progress": job.progress,
        "phase": job.phase,
        "started_us": job.started_us,
        "finished_us": job.finished_us,
        "error": job.error,
        "attempt": job.attempt,
        "owner": job.owner,
        "cancel_requested": job.cancel_requested,
        "expires_us": job.expires_us,
        "result_count": job.result_count,
    }


def _job(row: tuple[Any, ...]) -> AnalyticsJob:
    (id_, project, kind, state, input_, created, by, timeout, progress, phase, started,
     finished, error, attempt, owner, cancel, expires, count) = row  # fmt: skip
    return AnalyticsJob(
        id=id_,
        project=project,
        kind=AnalyticsKind(kind),
        input=AnalyticsInput.from_dict(json.loads(input_)),
        created_us=created,
        created_by=by,
        state=JobState(state),
        timeout_us=timeout,
        progress=progress,
        phase=phase,
        started_us=started,
        finished_us=finished,
        error=error,
        attempt=attempt,
        owner=owner,
        cancel_requested=cancel,
        expires_us=expires,
        result_count=count,
    )


def _one(cur: Cursor, sql: str, params: dict[str, Any]) -> AnalyticsJob | None:
    rows = cur.execute(sql, params).fetchall()
    return _job(rows[0]) if rows else None


class DuckDBAnalyticsJobStore:
    """The AnalyticsJobStore port (domain.analytics.ports) on the embedded store."""

    def __init__(self, runner: Runner, results: ResultFiles | None = None) -> None:
        self._run = runner
        self._results = results or ResultFiles(None)

    async def add_job(self, job: AnalyticsJob) -> None:
        row = _row(job)
        names = ", ".join(f"${k}" for k in row)
        await self._run.write(
            lambda cur: cur.execute(
                f"INSERT INTO analytics_jobs ({_COLUMNS}) VALUES ({names})", row
            )
        )

    async def get_job(self, project: str, job_id: str, *, now_us: int) -> AnalyticsJob | None:
        return await self._run.read(
            _one,
            f"SELECT {_COLUMNS} FROM analytics_jobs WHERE id = $id AND project = $project "
            f"AND {_LIVE}",
            {"id": job_id, "project": project, "now": now_us},
        )

    async def list_jobs(
        self,
        project: str,
        *,
        now_us: int,
        state: JobState | None = None,
        kind: AnalyticsKind | None = None,
        first: int = 20,
        after: tuple[int, str] | None = None,
    ) -> Page[AnalyticsJob]:
        where = ["project = $project", _LIVE]
        params: dict[str, Any] = {"project": project, "now": now_us, "limit": first + 1}
        if state is not None:
            where.append("state = $state")
            params["state"] = state.value
        if kind is not None:
            where.append("kind = $kind")
            params["kind"] = kind.value
        if after is not None:
            where.append("(created_us, id) < ($after_us, $after_id)")
            params["after_us"], params["after_id"] = after
        sql = (
            f"SELECT {_COLUMNS} FROM analytics_jobs WHERE {' AND '.join(where)} "
            "ORDER BY created_us DESC, id DESC LIMIT $limit"
        )
        rows = await self._run.read(lambda cur: cur.execute(sql, params).fetchall())
        jobs = [_job(r) for r in rows]
        return Page(jobs[:first], has_next_page=len(jobs) > first)

    async def runnable_jobs(self, *, limit: int) -> list[AnalyticsJob]:
        sql = (
            f"SELECT {_COLUMNS} FROM analytics_jobs WHERE state IN ('QUEUED', 'RUNNING') "
            "ORDER BY created_us, id LIMIT $limit"
        )
        rows = await self._run.read(lambda cur: cur.execute(sql, {"limit": limit}).fetchall())
        return [_job(r) for r in rows]

    async def start_job(
        self, project: str, job_id: str, *, attempt: int, owner: str, now_us: int
    ) -> AnalyticsJob | None:
        return await self._run.write(
            _one,
            f"""UPDATE analytics_jobs SET state = 'RUNNING', attempt = attempt + 1,
                owner = $owner, started_us = $now, progress = 0, phase = 'reading'
            WHERE id = $id AND project = $project AND state IN ('QUEUED', 'RUNNING')
                AND attempt = $attempt AND NOT cancel_requested
            RETURNING {_COLUMNS}""",
            {"id": job_id, "project": project, "attempt": attempt, "owner": owner, "now": now_us},
        )

    async def update_progress(
        self, project: str, job_id: str, *, attempt: int, progress: float, phase: str
    ) -> AnalyticsJob | None:
        return await self._run.write(
            _one,
            f"""UPDATE analytics_jobs SET progress = $progress, phase = $phase
            WHERE id = $id AND project = $project AND state = 'RUNNING' AND attempt = $attempt
            RETURNING {_COLUMNS}""",
            {
                "id": job_id,
                "project": project,
                "attempt": attempt,
                "progress": progress,
                "phase": phase,
            },
        )

    async def request_cancel(
        self, project: str, job_id: str, *, now_us: int, ttl_us: int
    ) -> AnalyticsJob | None:
        return await self._run.write(_request_cancel, project, job_id, now_us, now_us + ttl_us)

    async def save_results(
        self, project: str, job_id: str, attempt: int, items: Sequence[StoredItem]
    ) -> None:
        await self._results.write(job_id, attempt, items)

    async def finish_job(self, job: AnalyticsJob) -> bool:
        done = await self._run.write(_finish, job)
        if done:
            await self._results.drop(job.id, keep=job.attempt)
        return done

    async def get_results(
        self, project: str, job_id: str, attempt: int, *, offset: int, limit: int
    ) -> list[Item]:
        where = {"id": job_id, "project": project}
        owned = await self._run.read(
            lambda cur: cur.execute(
                "SELECT 1 FROM analytics_jobs WHERE id = $id AND project = $project", where
            ).fetchall()
        )
        if not owned:
            return []
        items = await self._results.read(job_id, attempt, offset=offset, limit=limit)
        if items:
            return items
        # Rows: results stored before they moved to files (they expire with their jobs).
        rows = await self._run.read(
            lambda cur: cur.execute(
                "SELECT doc FROM analytics_results WHERE job_id = $id AND attempt = $attempt "
                "ORDER BY seq LIMIT $limit OFFSET $offset",
                {"id": job_id, "attempt": attempt, "limit": limit, "offset": offset},
            ).fetchall()
        )
        return [orjson.loads(doc) for (doc,) in rows]

    async def purge_expired(self, now_us: int) -> int:
        expired = await self._run.write(_purge, now_us)
        await self._results.drop_jobs(expired)
        return len(expired)


@transaction
def _request_cancel(
    cur: Cursor, project: str, job_id: str, now_us: int, expires_us: int
) -> AnalyticsJob | None:
    where = {"id": job_id, "project": project}
    cur.execute(
        "UPDATE analytics_jobs SET state = 'CANCELLED', finished_us = $now, phase = 'cancelled',"
        " expires_us = $expires WHERE id = $id AND project = $project AND state = 'QUEUED'",
        {**where, "now": now_us, "expires": expires_us},
    )
    cur.execute(
        "UPDATE analytics_jobs SET cancel_requested = true "
        "WHERE id = $id AND project = $project AND state = 'RUNNING'",
        where,
    )
    return _one(
        cur, f"SELECT {_COLUMNS} FROM analytics_jobs WHERE id = $id AND project = $project", where
    )


@transaction
def _finish(cur: Cursor, job: AnalyticsJob) -> bool:
    done = cur.execute(
        """UPDATE analytics_jobs SET state = $state, finished_us = $finished, error = $error,
            phase = $phase, progress = $progress, expires_us = $expires, result_count = $count
        WHERE id = $id AND project = $project AND state = 'RUNNING' AND attempt = $attempt
        RETURNING id""",
        {
            "id": job.id,
            "project": job.project,
            "attempt": job.attempt,
            "state": job.state.value,
            "finished": job.finished_us,
            "error": job.error,
            "phase": job.phase,
            "progress": job.progress,
            "expires": job.expires_us,
            "count": job.result_count,
        },
    ).fetchall()
    if done:
        cur.execute(
            "DELETE FROM analytics_results WHERE job_id = $id AND attempt <> $attempt",
            {"id": job.id, "attempt": job.attempt},
        )
    return bool(done)


@transaction
def _purge(cur: Cursor, now_us: int) -> list[str]:
    expired = "SELECT id FROM analytics_jobs WHERE expires_us <= $now"
    cur.execute(f"DELETE FROM analytics_results WHERE job_id IN ({expired})", {"now": now_us})
    rows = cur.execute(
        "DELETE FROM analytics_jobs WHERE expires_us <= $now RETURNING id", {"now": now_us}
    ).fetchall()
    return [job_id for (job_id,) in rows]
