"""Queries counted for usage analytics: each project's queries and their CPU time."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import Any

from domain.queries import Query
from domain.usage.meter import UsageMeter

__all__ = ["metered"]

Handler = Callable[..., Any]


_METERED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vigil_query_metered", default=False
)


def metered(handler: Handler, meter: UsageMeter | None) -> Handler:
    """The query handler, counting each query of a project and the CPU time of the event
    loop's thread while it ran (usage analytics). A query asked by another (a dashboard's
    widgets) is part of that one: only the outermost is counted."""
    if meter is None:
        return handler

    async def run(query: Query) -> Any:
        if _METERED.get():
            return await handler(query)
        token = _METERED.set(True)
        started = time.thread_time()
        try:
            return await handler(query)
        finally:
            _METERED.reset(token)
            project = getattr(query, "project", None)
            if isinstance(project, str):
                meter.count_query(project, time.thread_time() - started)

    return run
