"""What the storage bench's servers hold once loaded: memory, and disk per point
(bench/storage.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import psutil

from bench.common import Server, log, wait_server_idle
from bench.peers import data_path, dir_bytes, force_flush, force_merge

__all__ = ["peer_disk", "rss_mb", "vigil_disk", "wait_for_compaction"]

COMPACTION_WAIT_SECONDS = 120.0


def rss_mb(server: Server) -> dict[str, float]:
    """The server process's resident memory, and its child processes' (Vigil's workers)."""
    proc = psutil.Process(server.pid)
    children = sum(c.memory_info().rss for c in proc.children(recursive=True))
    return {
        "rss_mb": round(proc.memory_info().rss / 1e6, 1),
        "children_rss_mb": round(children / 1e6, 1),
    }


def peer_disk(server: Server, tmp: Path, points: int) -> dict[str, Any]:
    """`data` and `indexdb` (what holds the points and the series); the `cache` folder is
    written only at shutdown and rebuilt when missing."""
    folder = data_path(tmp, server.port)
    force_flush(server)
    flushed = dir_bytes(folder / "data") + dir_bytes(folder / "indexdb")
    merge_seconds = force_merge(server)
    merged = dir_bytes(folder / "data") + dir_bytes(folder / "indexdb")
    return {
        "bytes_after_flush": flushed,
        "bytes_after_merge": merged,
        "merge_seconds": round(merge_seconds, 1),
        "bytes_per_point": round(merged / points, 3),
    }


def vigil_disk(db: Path, points: int) -> dict[str, Any]:
    """After the server has stopped: the file's used blocks and whatever WAL is left (free
    blocks, left by a compaction's move, are reused by the next appends: decision 0026),
    the file's size, and the blocks each kind of table holds."""
    wal = db.with_name(db.name + ".wal")
    size, wal_size = db.stat().st_size, wal.stat().st_size if wal.exists() else 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        ((block, used),) = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size()"
        ).fetchall()
        tables = [
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        blocks: dict[str, int] = {}
        for name in tables:
            kind = (
                "points"
                if name.startswith("points")
                else name
                if name.startswith("rollup_1")
                else "other tables"
            )
            info = f"pragma_storage_info('{name}')"
            ((n,),) = con.execute(
                f"SELECT count(DISTINCT block_id) FROM {info} WHERE persistent"
            ).fetchall()
            blocks[kind] = blocks.get(kind, 0) + int(n)
    finally:
        con.close()
    used_bytes = int(block) * int(used)
    return {
        "bytes": used_bytes,
        "file_bytes": size,
        "wal_bytes": wal_size,
        "bytes_per_point": (used_bytes + wal_size) / points,
        "file_bytes_per_point": (size + wal_size) / points,
        "blocks_by_table": blocks,
        "block_bytes": int(block),
    }


def wait_for_compaction(server: Server) -> None:
    """Wait (at most COMPACTION_WAIT_SECONDS) for the server's first compaction of the
    closed partitions, then for it to be idle: the disk figure is then the steady layout,
    as the peer's is after a forced merge (a server compacts every 60 s by default)."""
    deadline = time.monotonic() + COMPACTION_WAIT_SECONDS
    while "store: compacted" not in server.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            log("storage: no compaction seen before the disk figure")
            return
        time.sleep(1.0)
    wait_server_idle(server, window_s=2.0, cpu_s=0.05, deadline=deadline)
