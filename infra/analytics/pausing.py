"""A job's worker processes stop while a request is in flight (SIGSTOP, then SIGCONT).

`SCHED_IDLE` keeps a worker off a core a request wants, and a job's next task waits for
a gap between requests (workers.py); a task already computing still slows a request that
comes in meanwhile, through what the cores share (caches, memory bandwidth; in a VM,
perhaps one physical core). Stopped, it shares nothing. A stop lasts PAUSE_MOST_SECONDS
at most, and is followed by PAUSE_GAP_SECONDS of running at least, so a steady stream of
requests halves a job's speed and never starves it (docs/decisions/0043).

Workers are signalled through pidfds opened when first seen, so a worker that ended and
whose pid was given to another process is never signalled by mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable

__all__ = ["PAUSE_GAP_SECONDS", "PAUSE_MOST_SECONDS", "WorkerPauses"]

PAUSE_MOST_SECONDS = 0.1  # the longest a job's workers stay stopped at a time
PAUSE_GAP_SECONDS = 0.1  # and the shortest they then run before the next stop

_CAN_STOP = hasattr(signal, "SIGSTOP") and hasattr(os, "pidfd_open")


class WorkerPauses:
    """Stops the workers `pids()` names while the foreground is busy, if `pausable()`
    (job tasks are running and no query's task is). Used on the event loop only."""

    def __init__(self, pids: Callable[[], Iterable[int]], pausable: Callable[[], bool]) -> None:
        self._pids = pids
        self._pausable = pausable
        self._fds: dict[int, int] = {}
        self._busy = False
        self._stopped = False
        self._not_before = 0.0  # monotonic: no stop before this (the gap after a long one)
        self._timer: asyncio.TimerHandle | None = None
        self.stops = 0  # how many times the workers were stopped (the tests read it)

    def foreground(self, busy: bool) -> None:
        """The foreground's listener: a request came in with none in flight, or the last
        one ended."""
        self._busy = busy
        if busy:
            self._stop()
        else:
            self.resume()

    def resume(self) -> None:
        """Let the workers run again (before a query's task, a cancel, a close)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stopped:
            self._stopped = False
            self._signal(signal.SIGCONT)

    def close(self) -> None:
        self.resume()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _stop(self) -> None:
        if not _CAN_STOP or self._stopped or time.monotonic() < self._not_before:
            return
        if not self._pausable():
            return
        self._stopped = True
        self.stops += 1
        self._signal(signal.SIGSTOP)
        self._timer = asyncio.get_running_loop().call_later(PAUSE_MOST_SECONDS, self._cap)

    def _cap(self) -> None:
        """Stopped for PAUSE_MOST_SECONDS: run for PAUSE_GAP_SECONDS, then stop again if
        requests are still in flight."""
        self._timer = None
        self.resume()
        self._not_before = time.monotonic() + PAUSE_GAP_SECONDS
        self._timer = asyncio.get_running_loop().call_later(PAUSE_GAP_SECONDS, self._again)

    def _again(self) -> None:
        self._timer = None
        if self._busy:
            self._stop()

    def _signal(self, number: int) -> None:
        for fd in self._pidfds():
            with contextlib.suppress(ProcessLookupError):  # ended since: nothing to stop
                signal.pidfd_send_signal(fd, number)

    def _pidfds(self) -> list[int]:
        """A pidfd per worker now in the pool; those of ended workers are closed."""
        pids = set(self._pids())
        for pid in [pid for pid in self._fds if pid not in pids]:
            os.close(self._fds.pop(pid))
        for pid in pids - self._fds.keys():
            with contextlib.suppress(ProcessLookupError):
                self._fds[pid] = os.pidfd_open(pid)
        return list(self._fds.values())
