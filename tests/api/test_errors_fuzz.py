"""Every argument of every root field, one malformed value at a time (issue 12, item 20): no
answer may be `INTERNAL` or an HTTP 500. The fields and their argument types are read from
the schema the server publishes, so a new field is fuzzed the day it is added.

A malformed value is refused (`BAD_USER_INPUT`, `NOT_FOUND`, ...) or accepted; what it may
not do is reach code that fails in a way nobody wrote a message for.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
)

from tests.api.fuzz_values import cases, encode, holds_deep
from tests.support import RunningVigil, make_settings, serve, token, ws_client

FUZZER = token("fuzzer", demo="admin")
SEEN_WITHIN_SECONDS = 2.0  # quiet time after the last subscription's answer


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    settings = make_settings(
        tmp_path, ws_max_subscriptions=100_000, ws_max_message_bytes=16 * 1024 * 1024
    )
    async with serve(settings) as running:
        yield running


@pytest.fixture
async def schema(vigil: RunningVigil) -> GraphQLSchema:
    data = await vigil.ok(get_introspection_query(), auth=FUZZER)
    return build_client_schema(data)  # type: ignore[arg-type]


def document(operation: str, name: str, field: GraphQLField) -> str:
    declared = ", ".join(f"${arg}: {kind.type}" for arg, kind in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    call = f"{name}({passed})" if passed else name
    head = f"{operation}({declared})" if declared else operation
    return f"{head} {{ {call}{selection} }}"


def calls(root: GraphQLObjectType | None, operation: str) -> Iterator[tuple[str, str, Any]]:
    """(a label, the document, the variables) of every malformed call under `root`."""
    assert root is not None
    for name, field in sorted(root.fields.items()):
        if not field.args:
            continue
        text = document(operation, name, field)
        arguments = {arg: kind.type for arg, kind in field.args.items()}
        for where, variables in cases(arguments):
            yield f"{name}({where})", text, variables


def internal(errors: list[dict[str, Any]]) -> list[str]:
    return [
        error.get("message", "")
        for error in errors
        if (error.get("extensions") or {}).get("code") in (None, "INTERNAL")
    ]


@pytest.mark.parametrize("operation", ["query", "mutation"])
async def test_no_malformed_argument_answers_internal(
    vigil: RunningVigil, schema: GraphQLSchema, operation: str
) -> None:
    root = schema.query_type if operation == "query" else schema.mutation_type
    failures: list[str] = []
    count = 0
    for label, text, variables in calls(root, operation):
        count += 1
        response = await vigil.http.post(
            "/graphql",
            content=encode({"query": text, "variables": variables}),
            headers={"Authorization": f"Bearer {FUZZER}", "Content-Type": "application/json"},
        )
        if response.status_code >= 500:
            failures.append(f"{label}: HTTP {response.status_code}")
            continue
        if response.status_code != 200:
            continue  # 400 for a body too deep to parse, 413 for one too big: refusals
        bad = internal(response.json().get("errors") or [])
        if bad:
            failures.append(f"{label}: {bad[0][:200]}")
    assert count > 500, f"only {count} {operation} calls: is the schema read?"
    assert not failures, f"{len(failures)} of {count} answered INTERNAL:\n" + "\n".join(
        failures[:40]
    )
    assert await vigil.ok("{ __typename }", auth=FUZZER)  # still serving


async def test_no_malformed_subscription_argument_answers_internal(
    vigil: RunningVigil, schema: GraphQLSchema
) -> None:
    labels: dict[str, str] = {}
    failures: list[str] = []
    async with ws_client(vigil.ws_url, FUZZER) as client:
        for label, text, variables in calls(schema.subscription_type, "subscription"):
            if holds_deep(variables):
                continue  # a frame too deep to parse closes the socket (4400): not this test
            op_id = str(len(labels) + 1)
            labels[op_id] = label
            payload = {"query": text, "variables": variables}
            message = {"id": op_id, "type": "subscribe", "payload": payload}
            await client.connection.send(encode(message).decode())
        with contextlib.suppress(TimeoutError):
            while True:  # until the answers stop coming
                message = await client.receive(SEEN_WITHIN_SECONDS)
                if message.get("type") == "ping":
                    await client.send({"type": "pong"})
                    continue
                errors = message.get("payload")
                if message.get("type") == "next":
                    errors = (message.get("payload") or {}).get("errors")
                if message.get("type") in ("error", "next") and isinstance(errors, list):
                    bad = internal(errors)
                    if bad:
                        failures.append(f"{labels.get(message['id'])}: {bad[0][:200]}")
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}  # the socket survived
    assert len(labels) > 100, f"only {len(labels)} subscriptions: is the schema read?"
    assert not failures, f"{len(failures)} of {len(labels)} answered INTERNAL:\n" + "\n".join(
        failures[:40]
    )
