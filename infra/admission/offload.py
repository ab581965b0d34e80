"""Big batches are validated on a worker thread: Python hands the GIL back every few
milliseconds, so the event loop serves other tenants' requests in between instead of
waiting for the whole batch (issue 12, item 8: a flood must not starve a quiet project).
Small batches stay on the loop, where a thread hop would cost more than it saves.

One thread: validations do not race each other on the series cache, and a flood cannot
take more than one thread's share of the GIL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from infra.thread_names import name_for_os

__all__ = ["OFFLOAD_MIN_ENTRIES", "ThreadOffload"]

T = TypeVar("T")
OFFLOAD_MIN_ENTRIES: Final = 500  # entries of a batch; below, validated on the loop


class ThreadOffload:
    """domain.metrics.ports.Offload on one worker thread."""

    def __init__(self, min_size: int = OFFLOAD_MIN_ENTRIES) -> None:
        self._min_size = min_size
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix="ingest-validate", initializer=name_for_os
        )

    async def __call__(self, work: Callable[[], T], *, size: int) -> T:
        if size < self._min_size:
            return work()
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def close(self) -> None:
        self._executor.shutdown(wait=False)
