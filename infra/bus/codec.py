"""JSON encoding of bus messages with orjson, identical on every backend, and their
signature: an HMAC-SHA256 under the instances' shared secret, so that a client of Redis
alone cannot put events into any project's live streams (docs/security.md)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from infra.bus.errors import InvalidMessage

__all__ = ["Signer", "decode", "encode"]


def encode(message: dict[str, Any]) -> str:
    """Return the JSON text of `message`, or raise `InvalidMessage`.

    Types that orjson encodes natively (datetime, UUID, enum, dataclass) are accepted and
    arrive as their JSON form. orjson writes NaN and infinities as `null`.
    """
    if not isinstance(message, dict):
        raise InvalidMessage(f"a bus message must be a dict, not {type(message).__name__}")
    try:
        return orjson.dumps(message).decode()
    except orjson.JSONEncodeError as exc:
        raise InvalidMessage(f"a bus message must be JSON-serialisable: {exc}") from exc


def decode(raw: str | bytes) -> dict[str, Any] | None:
    """Return the dict encoded in `raw`, or None if `raw` is not a JSON object."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


_MAC_CHARS = 64  # hex SHA-256


class Signer:
    """Signs a message's JSON text for one channel, and checks what arrives.

    The wire form is the hex HMAC-SHA256 of `channel NUL text` followed by the text: the
    channel is covered, so a message signed for one project's channel cannot be replayed
    into another's. (A replay on the same channel is not detected: events are idempotent
    updates of live views, and the store stays the truth.)
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a bus signing key has at least 16 bytes")
        self._key = key

    def _mac(self, channel: str, text: str) -> str:
        data = channel.encode() + b"\0" + text.encode()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def sign(self, channel: str, text: str) -> str:
        return self._mac(channel, text) + text

    def verify(self, channel: str, raw: str) -> str | None:
        """The text of a correctly signed message, else None."""
        if len(raw) <= _MAC_CHARS:
            return None
        mac, text = raw[:_MAC_CHARS], raw[_MAC_CHARS:]
        return text if hmac.compare_digest(mac, self._mac(channel, text)) else None
