"""The message bus: routes commands and queries to their handler, then events to theirs.

Handlers are plain functions whose keyword-only parameters name their dependencies
(`metrics: MetricStore`, `clock: Clock`, ...). `bind` fills them in once, at start-up
(infra/bootstrap), so a handler never reaches into a locator and a test can call it with
fakes directly.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, Protocol

from domain.commands import Command
from domain.errors import VigilError
from domain.events import Event
from domain.queries import Query

__all__ = [
    "Ask",
    "CommandAudit",
    "CommandHandler",
    "EventHandler",
    "MessageBus",
    "QueryHandler",
    "bind",
]

logger = logging.getLogger("vigil.bus")

# How a handler reads what another feature answers: the bus's `ask`, injected as `ask`.
Ask = Callable[[Query], Awaitable[Any]]

# Bound handlers, as the bus calls them.
CommandHandler = Callable[[Any, list[Event]], Awaitable[Any]]
QueryHandler = Callable[[Any], Awaitable[Any]]
EventHandler = Callable[[Any], Awaitable[None]]


class CommandAudit(Protocol):
    """Where the bus reports every command a caller sent, and how it ended."""

    async def command_handled(
        self, command: Command, *, actor: str, request_id: str, outcome: str
    ) -> None: ...


def bind(handler: Callable[..., Any], dependencies: Mapping[str, Any]) -> Callable[..., Any]:
    """The handler with its keyword-only parameters taken from `dependencies` by name.

    A parameter with no dependency of that name and no default is a wiring mistake: it
    raises here, at start-up, not at the first request.
    """
    wanted: dict[str, Any] = {}
    for name, parameter in inspect.signature(handler).parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        if name in dependencies:
            wanted[name] = dependencies[name]
        elif parameter.default is inspect.Parameter.empty:
            raise LookupError(f"{handler.__qualname__} needs {name!r}, which is not wired")
    return partial(handler, **wanted) if wanted else handler


class MessageBus:
    """A failing command raises to its caller; a failing event handler is logged only."""

    def __init__(
        self,
        *,
        commands: Mapping[type[Command], CommandHandler],
        queries: Mapping[type[Query], QueryHandler],
        events: Mapping[type[Event], Sequence[EventHandler]],
        audit: CommandAudit | None = None,
    ) -> None:
        self._commands = commands
        self._queries = queries
        self._events = events
        self._audit = audit

    async def handle(self, command: Command, *, actor: str = "", request_id: str = "") -> Any:
        """Run a command; every command from a caller (actor) leaves an audit entry."""
        handler = self._commands[type(command)]
        events: list[Event] = []
        try:
            result = await handler(command, events)
        except VigilError as exc:
            await self._audited(command, actor, request_id, exc.code)
            raise
        except Exception:
            await self._audited(command, actor, request_id, "INTERNAL")
            raise
        await self._audited(command, actor, request_id, "ok")
        for event in events:
            await self.publish(event)
        return result

    async def ask(self, query: Query) -> Any:
        return await self._queries[type(query)](query)

    async def publish(self, event: Event) -> None:
        for handler in self._events.get(type(event), ()):
            try:
                await handler(event)
            except Exception:
                logger.exception("event handler %s failed for %s", handler, type(event).__name__)

    async def _audited(self, command: Command, actor: str, request_id: str, outcome: str) -> None:
        if self._audit is not None:
            await self._audit.command_handled(
                command, actor=actor, request_id=request_id, outcome=outcome
            )
