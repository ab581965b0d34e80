"""Where a token travels: the `Authorization` header and the websocket `connection_init`."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["bearer_token", "connection_init_token"]


def bearer_token(header_value: str | None) -> str | None:
    """Return `<t>` from an `Authorization: Bearer <t>` value, or None for anything else.

    The scheme is case-insensitive (RFC 9110); a missing, empty or other-scheme value
    gives None, and the caller decides whether anonymity is allowed.
    """
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def connection_init_token(payload: object) -> str | None:
    """Return the token of a `graphql-transport-ws` `connection_init` payload, or None.

    Accepted: `{"Authorization": "Bearer <t>"}`, `{"authorization": "Bearer <t>"}` and
    `{"token": "<t>"}`. Browsers cannot set headers on a websocket, hence the payload.
    """
    if not isinstance(payload, Mapping):
        return None
    for name in ("Authorization", "authorization"):
        value = payload.get(name)
        if isinstance(value, str):
            return bearer_token(value)
    token = payload.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    return None
