"""Websocket close reasons fit the protocol's 123 bytes, whatever the message."""

from __future__ import annotations

from domain.errors import Unauthenticated
from infra.ws.close_reasons import MAX_REASON_BYTES, clip, refusal


def test_a_long_reason_is_cut_on_a_character_boundary() -> None:
    text = "token claim 'projects' gives project 'é" + "é" * 200 + "' an unknown role"
    cut = clip(text)
    assert len(cut.encode()) <= MAX_REASON_BYTES and cut.endswith("...")
    assert text.startswith(cut.removesuffix("..."))
    assert clip("short") == "short"


def test_a_refusal_names_the_cause_and_the_fix() -> None:
    expired = Unauthenticated("token has expired", reason="expired")
    assert refusal({"token": "x.y.z"}, expired).startswith("token expired: mint a new one")
    assert refusal({}, Unauthenticated("a bearer token is required")).startswith("no token")
    assert refusal("Bearer x", expired).startswith("connection_init payload must be an object")
    other = Unauthenticated("token audience is not accepted", reason="wrong_audience")
    assert refusal({"token": "x.y.z"}, other) == "token audience is not accepted"
