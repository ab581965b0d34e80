"""Shared subscription executions: one GraphQL execution and one JSON encoding per event,
however many subscribers asked the same thing.

DESIGN.md measured Strawberry at one execution per subscriber per event (~10k deliveries/s
per core); a group runs the execution once and hands every member the same encoded text.

A stream that ends because live events cannot be delivered for now (the event bus lost its
backend: `BUS_GAP`, or cannot be reached: `UNAVAILABLE`) is not reported as an operation
error: every member is asked to `try_again_later`, which closes its connection with 1013,
so that standard clients reconnect and resubscribe by themselves (ADR 0007).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from strawberry.types.execution import ExecutionResult, PreExecutionError

__all__ = ["RETRY_LATER", "Member", "SubscriptionGroups", "encode_result"]

logger = logging.getLogger("vigil.ws")

ResultStream = AsyncGenerator[Any, None]
StartStream = Callable[[], Awaitable[ResultStream]]

# Error codes that end a live stream for a passing reason, with the close reason told.
RETRY_LATER = {
    "BUS_GAP": "Event bus interrupted; live events were lost. Reconnect, then query the gap",
    "UNAVAILABLE": "Event bus unavailable; live events cannot be served now. Try again later",
}


class Member(Protocol):
    """One subscriber: an operation id on a connection."""

    def send_payload(self, kind: str, payload: str) -> None:
        """Queue a `next` (payload: one result) or `error` (payload: a list of errors)."""

    def send_complete(self) -> None: ...

    def try_again_later(self, reason: str) -> None:
        """The stream cannot go on for now: the client should reconnect after a while."""


def encode_result(result: ExecutionResult) -> str:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return orjson.dumps(body).decode()


def encode_errors(result: ExecutionResult) -> str:
    return orjson.dumps([error.formatted for error in result.errors or ()]).decode()


def retry_later_reason(result: ExecutionResult) -> str | None:
    """Why a result ends the stream for now, if it is an error without data of that kind."""
    if result.data is not None or not result.errors:
        return None
    for error in result.errors:
        reason = RETRY_LATER.get((error.extensions or {}).get("code", ""))
        if reason is not None:
            return reason
    return None


@dataclass(eq=False)
class _Group:
    key: Hashable
    members: list[Member] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class SubscriptionGroups:
    """Members with the same key (document, variables, rights) share one result stream."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, _Group] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def members(self) -> int:
        return sum(len(g.members) for g in self._groups.values())

    def join(self, key: Hashable, member: Member, start: StartStream) -> None:
        """Add a member; the first member of a key starts its stream with `start()`."""
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(key)
            group.task = asyncio.create_task(self._run(group, start))
        group.members.append(member)

    def leave(self, key: Hashable, member: Member) -> None:
        group = self._groups.get(key)
        if group is None or member not in group.members:
            return
        group.members.remove(member)
        if not group.members:
            self._close(group)

    async def close(self) -> None:
        for group in list(self._groups.values()):
            self._close(group)

    def _close(self, group: _Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]
        if group.task is not None and group.task is not asyncio.current_task():
            group.task.cancel()

    async def _run(self, group: _Group, start: StartStream) -> None:
        first = True
        try:
            stream = await start()
            try:
                async for result in stream:
                    if first and isinstance(result, PreExecutionError):
                        self._finish(group, "error", encode_errors(result))
                        return
                    first = False
                    reason = retry_later_reason(result)
                    if reason is not None:
                        self._retry_later(group, reason)
                        return
                    payload = encode_result(result)
                    for member in tuple(group.members):
                        member.send_payload("next", payload)
            finally:
                await stream.aclose()
            self._finish(group, None, "")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("subscription group failed")
            self._finish(
                group,
                "error",
                '[{"message":"Internal error; it has been logged.",'
                '"extensions":{"code":"INTERNAL"}}]',
            )

    def _retry_later(self, group: _Group, reason: str) -> None:
        members = tuple(group.members)
        group.members.clear()
        self._close(group)
        for member in members:
            member.try_again_later(reason)

    def _finish(self, group: _Group, kind: str | None, payload: str) -> None:
        """End the group: every member gets the error, or `complete` when the stream ended."""
        members = tuple(group.members)
        group.members.clear()
        self._close(group)
        for member in members:
            if kind is None:
                member.send_complete()
            else:
                member.send_payload(kind, payload)
