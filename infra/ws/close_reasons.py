"""The reasons a websocket closes with: what happened and what to do, within the
protocol's 123 bytes (graphql-transport-ws close frames)."""

from __future__ import annotations

from domain.errors import Unauthenticated
from infra.auth import connection_init_token

__all__ = ["MAX_REASON_BYTES", "SEND_INIT", "SUBPROTOCOL", "clip", "refusal"]

# A refused token closes 4403, which graphql-ws clients retry for ~40 s by default before
# they show the reason (docs/api.md shows `shouldRetry`): the reason must be worth the wait.
MAX_REASON_BYTES = 123
SEND_INIT = 'send {"type": "connection_init", "payload": {"Authorization": "Bearer ..."}}'
SUBPROTOCOL = "Subprotocol not acceptable: offer graphql-transport-ws, the only one served"
_REFUSALS = {
    "expired": "token expired: mint a new one (vigil token) and reconnect",
    "bad_signature": "token signature is invalid: not signed with this server's secret; mint one "
    "where the server runs",
}


def refusal(payload: object, exc: Unauthenticated) -> str:
    """Why a `connection_init` is refused, for the close reason."""
    if not isinstance(payload, dict):
        return 'connection_init payload must be an object: {"Authorization": "Bearer ..."}'
    if connection_init_token(payload) is None:
        if any(isinstance(payload.get(k), str) for k in ("Authorization", "authorization")):
            return 'no token: the Authorization value must read "Bearer <token>"'
        return 'no token: send {"Authorization": "Bearer ..."} in connection_init'
    reason = exc.details.get("reason")
    text = _REFUSALS.get(reason, exc.message) if isinstance(reason, str) else exc.message
    return clip(text)


def clip(text: str) -> str:
    """`text` cut to fit a close frame, on a character boundary."""
    encoded = text.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return text
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."
