"""The message bus: routes commands and queries to their handler, then events to theirs.

Handlers are plain functions whose keyword-only parameters name their dependencies
(`metrics: MetricStore`, `clock: Clock`, ...). `bind` fills them in once, at start-up
(infra/bootstrap), so a handler never reaches into a locator and a test can call it with
fakes directly.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from domain.changes import AuditNote, collecting
from domain.commands import Command
from domain.errors import VigilError
from domain.events import Event
from domain.queries import Query

__all__ = [
    "Ask",
    "Caller",
    "CommandAudit",
    "CommandGate",
    "CommandHandler",
    "EventHandler",
    "MessageBus",
    "QueryAudit",
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


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sends what the bus handles: a token's subject, its roles, where it called from."""

    actor: str
    roles: Mapping[str, str] = field(default_factory=dict)
    client: str = ""  # the client's address, as the server saw it
    request_id: str = ""
    token_id: str = ""

    def role_in(self, project: str) -> str:
        return str(self.roles.get(project, ""))


class CommandAudit(Protocol):
    """Where the bus reports every command a caller sent, how it ended and what it changed."""

    async def command_handled(
        self, command: Command, *, caller: Caller, outcome: str, note: AuditNote
    ) -> None: ...

    def prepare(self, command: Command, *, caller: Caller, note: AuditNote) -> None:
        """Before the handler: offer the "ok" entry on the note (`take_ok_entry`)."""


class CommandGate(Protocol):
    """Admission in front of a command's handler (rate limits, back-pressure, fair turns):
    raises a VigilError to refuse, which is audited as the command's outcome."""

    def admit(self, command: Command, caller: Caller) -> AbstractAsyncContextManager[None]: ...


class QueryAudit(Protocol):
    """Where the bus reports the queries a caller asks (metric reads are audited)."""

    def query_asked(self, query: Query, caller: Caller) -> None: ...


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
        query_audit: QueryAudit | None = None,
        gate: CommandGate | None = None,
    ) -> None:
        self._commands = commands
        self._gate = gate
        self._queries = queries
        self._events = events
        self._audit = audit
        self._query_audit = query_audit
        self._caller: Caller | None = None

    def for_caller(self, caller: Caller) -> MessageBus:
        """This bus, sending as `caller`: its commands are audited with the caller's role and
        address, its queries reported to the query audit. One per request; cheap."""
        bound = copy.copy(self)
        bound._caller = caller
        return bound

    async def handle(self, command: Command, *, actor: str = "", request_id: str = "") -> Any:
        """Run a command; every command from a caller (actor) leaves an audit entry."""
        handler = self._commands[type(command)]
        caller = self._caller_for(actor, request_id)
        events: list[Event] = []
        with collecting() as note:
            if self._audit is not None:
                self._audit.prepare(command, caller=caller, note=note)
            try:
                admitted = (
                    self._gate.admit(command, caller)
                    if self._gate is not None
                    else contextlib.nullcontext()
                )
                async with admitted:
                    result = await handler(command, events)
            except VigilError as exc:
                await self._audited(command, caller, exc.code, note)
                raise
            except Exception:
                await self._audited(command, caller, "INTERNAL", note)
                raise
            await self._audited(command, caller, "ok", note)
        for event in events:
            await self.publish(event)
        return result

    async def ask(self, query: Query) -> Any:
        if self._caller is not None and self._query_audit is not None:
            self._query_audit.query_asked(query, self._caller)
        return await self._queries[type(query)](query)

    async def publish(self, event: Event) -> None:
        for handler in self._events.get(type(event), ()):
            try:
                await handler(event)
            except Exception:
                logger.exception("event handler %s failed for %s", handler, type(event).__name__)

    def _caller_for(self, actor: str, request_id: str) -> Caller:
        bound = self._caller
        if bound is None:
            return Caller(actor, request_id=request_id)
        if actor and actor != bound.actor:  # a caller acting for another: say so
            return Caller(actor, request_id=request_id or bound.request_id, client=bound.client)
        return (
            bound
            if not request_id
            else Caller(bound.actor, bound.roles, bound.client, request_id, bound.token_id)
        )

    async def _audited(
        self, command: Command, caller: Caller, outcome: str, note: AuditNote
    ) -> None:
        if self._audit is not None:
            await self._audit.command_handled(command, caller=caller, outcome=outcome, note=note)
