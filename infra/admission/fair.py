"""Fair turns in front of the store commit: a few commits run at once, and when they are
all taken, waiting projects are served round robin, so a project with a hundred batches
queued does not make another project's single batch wait behind all of them."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator

__all__ = ["FairTurns"]


class FairTurns:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.running = 0
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def turn(self, project: str) -> AsyncIterator[None]:
        if self.running < self.slots and not self._waiting:
            self.running += 1
        else:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(project, deque()).append(waiter)
            try:
                await waiter  # the slot is handed over with the result: running unchanged
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed a slot just as we were cancelled
                else:
                    self._forget(project, waiter)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot to the first waiter of the next project in turn."""
        while self._waiting:
            project, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            if queue:
                self._waiting.move_to_end(project)  # its next batch waits for the others
            else:
                del self._waiting[project]
            if not waiter.done():
                waiter.set_result(None)
                return
        self.running -= 1

    def _forget(self, project: str, waiter: asyncio.Future[None]) -> None:
        queue = self._waiting.get(project)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(waiter)
        if not queue:
            del self._waiting[project]
