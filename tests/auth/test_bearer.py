"""Finding the token in an Authorization header or a websocket connection_init payload."""

from __future__ import annotations

import pytest

from infra.auth import bearer_token, connection_init_token


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER abc.def.ghi", "abc.def.ghi"),
        ("  Bearer   abc.def.ghi  ", "abc.def.ghi"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
        ("Bearerabc.def.ghi", None),
        ("Bearer abc def", None),
        ("abc.def.ghi", None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"Authorization": "Bearer t1"}, "t1"),
        ({"authorization": "bearer t2"}, "t2"),
        ({"token": "t3"}, "t3"),
        ({"Authorization": "Bearer t1", "token": "t3"}, "t1"),
        ({"Authorization": "Basic xyz"}, None),
        ({"token": ""}, None),
        ({"token": 42}, None),
        ({"Authorization": ["Bearer t1"]}, None),
        ({}, None),
        (None, None),
        ("Bearer t1", None),
        (["token", "t3"], None),
    ],
)
def test_connection_init_token(payload: object, expected: str | None) -> None:
    assert connection_init_token(payload) == expected
