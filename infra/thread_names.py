"""Vigil's worker threads carry their names for the operating system too, so that
`top -H`, `ps -L` and /proc say which thread spends the CPU (`duckdb-writer_0`, not
`python`); the collectors bench splits a request's CPU by them."""

from __future__ import annotations

import threading

__all__ = ["name_for_os"]

_OS_NAME_BYTES = 15  # Linux keeps 15 bytes of a thread's name


def name_for_os() -> None:
    """Gives the calling thread's Python name to the OS (a ThreadPoolExecutor
    initializer); a no-op where /proc does not take it."""
    name = threading.current_thread().name.encode()[:_OS_NAME_BYTES]
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "wb") as comm:
            comm.write(name)
    except OSError:
        pass
