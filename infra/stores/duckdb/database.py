"""One DuckDB file holding metrics, the audit log and alerting: open, use, close."""

from __future__ import annotations

import asyncio
import re
from contextlib import suppress
from pathlib import Path

import duckdb

from domain.errors import Unavailable
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import MetricType
from infra.stores.duckdb.alerts import DuckDBAlertStore
from infra.stores.duckdb.analytics import DuckDBAnalyticsJobStore
from infra.stores.duckdb.anomalies import DuckDBAnomalyStore
from infra.stores.duckdb.audit import DuckDBAuditStore
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.duckdb.compaction import Compactor
from infra.stores.duckdb.compliance import DuckDBComplianceStore
from infra.stores.duckdb.dashboards import DuckDBDashboardStore
from infra.stores.duckdb.faults import StoreFaults
from infra.stores.duckdb.incidents import DuckDBIncidentStore
from infra.stores.duckdb.leases import DuckDBLeaseStore
from infra.stores.duckdb.metrics import DuckDBMetricStore
from infra.stores.duckdb.migrations import migrate
from infra.stores.duckdb.notifications import DuckDBNotificationStore
from infra.stores.duckdb.pricing import DuckDBPricingStore
from infra.stores.duckdb.report_slots import DuckDBReportSlotStore
from infra.stores.duckdb.reports import DuckDBArtefactStore, DuckDBReportStore
from infra.stores.duckdb.result_files import ResultFiles
from infra.stores.duckdb.retention import DuckDBRetentionStore
from infra.stores.duckdb.rollups import DuckDBRollupStore, Watermarks
from infra.stores.duckdb.runner import Cursor, Runner
from infra.stores.duckdb.usage import DuckDBUsageStore
from infra.stores.duckdb.wal import is_wal_failure, salvage_wal

__all__ = ["DuckDBDatabase"]

Options = dict[str, str | bool | int | float | list[str]]  # duckdb.connect's `config`


class DuckDBDatabase:
    """The embedded store: `metrics`, `audit` and `alerts` share one file, one writer thread
    and its readers.

    DuckDB lets one process open a file for writing, so this object is the only writer;
    that is what makes the in-memory series catalogue authoritative.
    """

    def __init__(
        self,
        runner: Runner,
        catalogue: SeriesCatalogue,
        path: str,
        watermarks: Watermarks | None = None,
        *,
        compaction_partition_seconds: int = 3_600,
    ) -> None:
        self.path = path
        self.compactor = Compactor(runner, partition_seconds=compaction_partition_seconds)
        self._compacting: asyncio.Task[None] | None = None
        watermarks = watermarks or Watermarks()
        self.metrics = DuckDBMetricStore(runner, catalogue, watermarks)
        self.rollups = DuckDBRollupStore(runner, watermarks)
        self.audit = DuckDBAuditStore(runner)
        self.metrics.audit_with(self.audit)
        self.alerts = DuckDBAlertStore(runner)
        self.leases = DuckDBLeaseStore(runner)
        self.dashboards = DuckDBDashboardStore(runner)
        self.notifications = DuckDBNotificationStore(runner)
        results = None if path == ":memory:" else Path(f"{path}.results")
        self.analytics = DuckDBAnalyticsJobStore(runner, ResultFiles(results))
        self.compliance = DuckDBComplianceStore(runner)
        self.anomalies = DuckDBAnomalyStore(runner)
        self.incidents = DuckDBIncidentStore(runner)
        self.retention = DuckDBRetentionStore(runner, catalogue, spans=watermarks.spans)
        self.pricing = DuckDBPricingStore(runner)
        self.reports = DuckDBReportStore(runner)
        self.report_artefacts = DuckDBArtefactStore(runner)
        self.report_slots = DuckDBReportSlotStore(runner)
        self.usage = DuckDBUsageStore(runner)
        self._runner = runner

    @property
    def faults(self) -> StoreFaults:
        """What went wrong (a full disk, a reopen under way, damage): health reads it."""
        return self._runner.faults

    def liveness(self, *, recover_seconds: float) -> str | None:
        """Why the process should be restarted, or None: DuckDB invalidated the database
        and reopening it has failed for longer than `recover_seconds`."""
        faults = self._runner.faults
        if faults.invalidated and faults.seconds_down() > recover_seconds:
            return f"the store could not be reopened for {faults.seconds_down():.0f} s"
        return None

    def metric_points(self) -> list[dict[str, object]]:
        return [*self._runner.faults.metric_points(), *self.compactor.metric_points()]

    def start_compaction(self, every_seconds: float) -> None:
        """Compact closed partitions every `every_seconds` until close (compaction.py)."""
        if self._compacting is None:
            self._compacting = asyncio.create_task(self.compactor.run(every_seconds))

    async def memory(self) -> dict[str, int]:
        """DuckDB's memory limit and what its buffer manager holds now, in bytes."""
        return await self._runner.read(_memory)

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        readers: int = 4,
        checkpoint_bytes: int | None = None,
        memory_limit_mb: int | None = None,
        compaction_seconds: float = 0.0,
        compaction_partition_seconds: int = 3_600,
        block_bytes: int | None = None,
    ) -> DuckDBDatabase:
        """Create the file, its folder and the tables if needed, or bring an older file's
        layout up to date (migrations.py); `":memory:"` for throwaways.

        A file written by a newer Vigil, or open in another process, raises `Unavailable`
        and is left as it was. `checkpoint_bytes`: the size of DuckDB's log that makes it
        checkpoint (its `checkpoint_threshold`); None keeps DuckDB's default (16 MiB).
        `memory_limit_mb`: DuckDB's `memory_limit` in MiB, what its block cache and queries
        may hold (sorts and aggregations spill to `<file>.tmp` past it); None keeps DuckDB's
        default, 80% of RAM.
        A log DuckDB cannot replay is set aside and its good part replayed (wal.py).
        `compaction_seconds`: how often closed partitions of `compaction_partition_seconds`
        are compacted (compaction.py); 0 leaves it to the caller (`compactor.compact()`).
        `block_bytes`: the block size of a new file (None: DuckDB's 256 KiB); a file keeps
        the size it was created with. Each small table takes at least a block, so smaller
        blocks make a small store smaller on disk (decision 0026).
        """
        faults = StoreFaults(path=path)
        options: Options = {}
        if checkpoint_bytes is not None:
            options["checkpoint_threshold"] = f"{checkpoint_bytes}B"
        if memory_limit_mb is not None:
            options["memory_limit"] = f"{memory_limit_mb}MiB"
        if block_bytes is not None:
            options["default_block_size"] = str(block_bytes)
        con, catalogue, watermarks = await asyncio.to_thread(_connect, path, faults, options)
        reconnect = None if path == ":memory:" else lambda: _open_salvaging(path, faults, options)
        runner = Runner(con, readers=readers, connect=reconnect, faults=faults)
        database = cls(
            runner,
            catalogue,
            path,
            watermarks,
            compaction_partition_seconds=compaction_partition_seconds,
        )
        if compaction_seconds > 0:
            database.start_compaction(compaction_seconds)
        return database

    async def close(self) -> None:
        """Finish the calls under way, then close; DuckDB checkpoints the log on close.
        A compaction under way is interrupted and rolled back: it moves again next time."""
        if self._compacting is not None:
            self._compacting.cancel()
            with suppress(asyncio.CancelledError):
                await self._compacting
        await self._runner.close()

    async def __aenter__(self) -> DuckDBDatabase:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _memory(cur: Cursor) -> dict[str, int]:
    row = cur.execute(
        "SELECT (SELECT sum(memory_usage_bytes) FROM duckdb_memory()), "
        "(SELECT value FROM duckdb_settings() WHERE name = 'memory_limit')"
    ).fetchone()
    used, limit = row if row is not None else (0, "0 bytes")
    return {"used_bytes": int(used or 0), "limit_bytes": _bytes(str(limit))}


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def _bytes(text: str) -> int:
    """DuckDB's '512.0 MiB' in bytes."""
    number, _, unit = text.partition(" ")
    return round(float(number) * _UNITS[unit])


# DuckDB: 'Could not set lock on file "...": Conflicting lock is held in ... (PID 123)'
_LOCK_HOLDER = re.compile(r"Could not set lock on file.*\(PID (\d+)\)")


def _connect(
    path: str, faults: StoreFaults, options: Options
) -> tuple[Cursor, SeriesCatalogue, Watermarks]:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = _open_salvaging(path, faults, options)
    except duckdb.IOException as exc:
        held = _LOCK_HOLDER.search(str(exc))
        if held is None:
            raise
        # DuckDB's own text runs to a traceback of its internals; say what it means.
        raise Unavailable(
            f"Vigil is already running on {path} (PID {held.group(1)}): stop it, or give "
            "this one another VIGIL_DATA_DIR or VIGIL_STORE_URL"
        ) from None
    try:
        migrate(con)
        catalogue = SeriesCatalogue()
        rows = con.execute(
            "SELECT project, id, name, tags, type, category, source FROM series"
        ).fetchall()
        for project, sid, name, tags, type_, category, source in rows:
            spec = SeriesSpec(sid, name, dict(tags), MetricType(type_), category, source)
            catalogue.add(project, [spec])
        watermarks = Watermarks()
        watermarks.load(con)
    except BaseException:
        con.close()
        raise
    return con, catalogue, watermarks


def _open_salvaging(path: str, faults: StoreFaults, options: Options) -> Cursor:
    """Open; a log DuckDB cannot replay is set aside and its good part replayed (wal.py)."""
    try:
        return duckdb.connect(path, config=options)
    except duckdb.Error as exc:
        if path == ":memory:" or not is_wal_failure(exc):
            raise
        faults.wal_salvage = salvage_wal(path, exc)
        faults.note_corruption("wal")
    return duckdb.connect(path, config=options)
