"""Over HTTP, every refusal is GraphQL-shaped JSON with a code and the fix, and what the
caller did wrong is never logged as an error of the server."""

from __future__ import annotations

import logging
import time

import pytest

from tests.support import RunningVigil, token

SUB = 'subscription { metricCollected(project: "demo") { name } }'
POINT = """mutation($points: PointBatch!) { createMetrics(project: "demo", points: $points) {
  accepted } }"""


def only_error(body: dict[str, object]) -> dict[str, object]:
    errors = body["errors"]
    assert isinstance(errors, list) and len(errors) == 1, body
    error: dict[str, object] = errors[0]
    return error


@pytest.mark.parametrize("auth", [None, "viewer"])
async def test_a_subscription_over_http_is_refused_as_bad_input_and_not_logged(
    vigil: RunningVigil, caplog: pytest.LogCaptureFixture, auth: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token(demo=auth)}"} if auth else {}
    response = await vigil.http.post("/graphql", json={"query": SUB}, headers=headers)
    assert response.status_code == 400
    error = only_error(response.json())
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("subscriptions need a websocket (graphql-transport-ws)")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_syntax_error_carries_a_code(vigil: RunningVigil) -> None:
    body = await vigil.gql("{ metricNames(project: ", auth=token(demo="viewer"))
    error = only_error(body)
    assert error["message"].startswith("Syntax Error")
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("request_kwargs", "says"),
    [
        (
            {"content": b'{"query": "{ a }"}', "headers": {"Content-Type": "text/plain"}},
            "unsupported Content-Type (text/plain): send a POST with Content-Type: "
            "application/json",
        ),
        ({"content": b'{"query": "{ a }"}'}, "unsupported Content-Type (none)"),
        (
            {"content": b"{query: x", "headers": {"Content-Type": "application/json"}},
            "the request body is not valid JSON: send a POST with Content-Type: application/json",
        ),
        ({"json": {"variables": {}}}, "the request has no query"),
    ],
)
async def test_an_unreadable_request_gets_json_with_the_fix(
    vigil: RunningVigil, request_kwargs: dict[str, object], says: str
) -> None:
    response = await vigil.http.post("/graphql", **request_kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = only_error(response.json())
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert says in str(error["message"])


async def test_a_query_in_a_get_gets_json_with_the_fix(vigil: RunningVigil) -> None:
    response = await vigil.http.get("/graphql", params={"query": "{ metricNames(project: x) }"})
    assert response.status_code == 400
    error = only_error(response.json())
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "queries are not served over GET" in str(error["message"])
    assert "Content-Type: application/json" in str(error["message"])


async def test_forbidden_says_what_the_token_holds_and_what_is_needed(
    vigil: RunningVigil,
) -> None:
    one = {"points": [{"name": "x", "value": 1}]}
    body = await vigil.gql(POINT, one, auth=token(demo="viewer"))
    error = only_error(body)
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert error["message"] == (
        "your token has role viewer in project 'demo'; createMetrics needs admin or collector"
    )
    body = await vigil.gql('{ auditLog(project: "shop") { action } }', auth=token(demo="admin"))
    assert only_error(body)["message"] == (
        "your token has no role in project 'shop'; auditLog needs admin"
    )


@pytest.mark.parametrize(
    ("stamp", "hint"),
    [
        (lambda: int(time.time()), "looks like seconds, send"),
        (lambda: int(time.time() * 1_000_000), "looks like microseconds, send"),
        (lambda: time.time_ns(), "looks like nanoseconds, send"),
    ],
)
async def test_an_epoch_timestamp_in_another_unit_is_named(
    vigil: RunningVigil, stamp: object, hint: str
) -> None:
    value = stamp()  # type: ignore[operator]
    points = [{"name": "cpu", "value": 1, "timestamp": value}]
    body = await vigil.gql(POINT, {"points": points}, auth=token(demo="collector"))
    reason = only_error(body)["extensions"]["errors"][0]["reason"]  # type: ignore[index]
    assert "epoch timestamps are in milliseconds" in reason
    assert hint in reason
    fixed = int(reason.rsplit("send ", 1)[1])
    accepted = await vigil.ok(
        POINT, {"points": [{"name": "cpu", "value": 1, "timestamp": fixed}]}, auth=token()
    )
    assert accepted["createMetrics"]["accepted"] == 1  # the suggested value is right
