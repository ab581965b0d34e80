"""Worker threads carry their names for the OS (infra/thread_names.py), and the bench
reads a process's CPU by those names (bench/common.py `thread_cpu`)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import thread_cpu
from infra.thread_names import name_for_os


def _busy_for(seconds: float) -> int:
    until = threading.Event()
    threading.Timer(seconds, until.set).start()
    while not until.is_set():
        sum(range(1_000))
    return threading.get_native_id()


def test_a_pool_thread_is_named_for_the_os_and_its_cpu_counted_by_that_name() -> None:
    with ThreadPoolExecutor(1, thread_name_prefix="duckdb-writer", initializer=name_for_os) as pool:
        before = thread_cpu(os.getpid()).get("duckdb-writer", 0.0)
        tid = pool.submit(_busy_for, 0.3).result()
        comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        spent = thread_cpu(os.getpid())["duckdb-writer"] - before

    assert comm == "duckdb-writer_0"
    assert spent > 0.1  # the pool's 0.3 s of work, by its name (ticks of 10 ms)
    assert "main" in thread_cpu(os.getpid())


def test_a_long_name_keeps_what_the_os_keeps() -> None:
    with ThreadPoolExecutor(
        1, thread_name_prefix="duckdb-maintenance", initializer=name_for_os
    ) as pool:
        tid = pool.submit(threading.get_native_id).result()
        assert Path(f"/proc/self/task/{tid}/comm").read_text().strip() == "duckdb-maintena"
