"""`python -m bench.memory_probe serve ...`: `vigil serve` with a memory probe inside, for
bench/memory.py (not for production).

On SIGUSR1 the server writes where its memory is to `$VIGIL_BENCH_PROBE_OUT.<n>.json`
(n counts from 1): the kernel's view (/proc/self/status, smaps_rollup), glibc malloc's
(mallinfo2), Python's object allocator (`sys._debugmallocstats`) and the objects the
garbage collector tracks by type, DuckDB's buffer manager (`duckdb_memory()`, its memory
limit) and, when the process was started with PYTHONTRACEMALLOC, Python's heap by line.
SIGUSR2 first runs a full garbage collection, then glibc's `malloc_trim(0)`, and reports
the kernel's view after each.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import itertools
import os
import re
import signal
import sys
import tempfile
import tracemalloc
from collections import Counter
from types import FrameType
from typing import Any

import orjson

__all__ = ["main", "snapshot"]

_COUNT = itertools.count(1)
_DATABASES: list[Any] = []  # the server's DuckDBDatabase, recorded as it opens


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes from brk (the main arena)
            "ordblks",
            "smblks",
            "hblks",  # mmapped chunks
            "hblkhd",  # bytes in mmapped chunks
            "usmblks",
            "fsmblks",
            "uordblks",  # bytes in use
            "fordblks",  # bytes free, kept by malloc
            "keepcost",
        )
    ]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_LIBC.mallinfo2.restype = _MallInfo2


def _kernel() -> dict[str, int]:
    """kB, as the kernel says them."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "Threads"):
                out[key] = int(rest.split()[0])
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if key in ("Pss", "Private_Dirty", "Anonymous"):
                out[key] = int(rest.split()[0])
    return out


def _malloc() -> dict[str, int]:
    info = _LIBC.mallinfo2()
    return {
        "arena_bytes": info.arena,
        "mmapped_bytes": info.hblkhd,
        "in_use_bytes": info.uordblks,
        "free_kept_bytes": info.fordblks,
        "top_releasable_bytes": info.keepcost,
    }


def _duckdb() -> dict[str, Any]:
    if not _DATABASES:
        return {}
    con = _DATABASES[0]._runner._con.cursor()
    try:
        tags = con.execute(
            "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() "
            "WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0"
        ).fetchall()
        limit, threads = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchone() or ("", 0)
        size = con.execute("SELECT memory_usage, memory_limit FROM pragma_database_size()")
        usage = size.fetchall()
    finally:
        con.close()
    return {
        "memory_limit": limit,
        "threads": threads,
        "by_tag_bytes": {tag: used for tag, used, _ in tags},
        "database_size": [list(row) for row in usage],
    }


def _pymalloc() -> dict[str, int]:
    """Python's small-object allocator (arenas of 1 MiB it maps itself, not malloc's)."""
    with tempfile.TemporaryFile("w+") as out:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    found: dict[str, int] = {}
    for key in ("arenas allocated current", "bytes in allocated blocks",
                "bytes in available blocks"):  # fmt: skip
        match = re.search(rf"# {key}\s*=\s*([\d,]+)", text)
        if match:
            found[key.replace(" ", "_")] = int(match.group(1).replace(",", ""))
    return found


def _python() -> dict[str, Any]:
    objects = gc.get_objects()  # not the frozen ones (infra/app.py freezes start-up's)
    kinds = Counter(type(o).__name__ for o in objects)
    out: dict[str, Any] = {
        "gc_objects": len(objects),
        "gc_counts": list(gc.get_count()),
        "gc_frozen": gc.get_freeze_count(),
        "gc_top_types": kinds.most_common(15),
        "pymalloc": _pymalloc(),
    }
    del objects
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot()
        stats = snap.statistics("lineno")
        out["traced_bytes"] = sum(s.size for s in stats)
        out["top"] = [[str(s.traceback), s.size, s.count] for s in stats[:25]]
        by_file = snap.statistics("filename")
        out["top_files"] = [[str(s.traceback), s.size, s.count] for s in by_file[:25]]
    return out


def snapshot() -> dict[str, Any]:
    """Where this process's memory is, now."""
    return {
        "kernel_kb": _kernel(),
        "malloc": _malloc(),
        "duckdb": _duckdb(),
        "python": _python(),
    }


def _write(trim: bool) -> None:
    report: dict[str, Any] = {}
    if trim:
        report["before_collect_kb"] = _kernel()
        report["collected"] = gc.collect()
        report["before_trim_kb"] = _kernel()
        report["trimmed"] = _LIBC.malloc_trim(0)
    report |= snapshot()
    path = f"{os.environ['VIGIL_BENCH_PROBE_OUT']}.{next(_COUNT)}.json"
    with open(path, "wb") as out:
        out.write(orjson.dumps(report))


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _write(trim=signum == signal.SIGUSR2)


def main() -> int:
    signal.signal(signal.SIGUSR1, _on_signal)
    signal.signal(signal.SIGUSR2, _on_signal)
    from infra.stores.duckdb.database import DuckDBDatabase

    opened = DuckDBDatabase.open.__func__  # type: ignore[attr-defined]

    async def recording(cls: type, *args: Any, **kwargs: Any) -> Any:
        database = await opened(cls, *args, **kwargs)
        _DATABASES.append(database)
        return database

    DuckDBDatabase.open = classmethod(recording)  # type: ignore[method-assign, assignment]
    from infra.cli import main as vigil

    return vigil(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
