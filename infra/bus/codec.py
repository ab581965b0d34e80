"""JSON encoding of bus messages with orjson, identical on every backend."""

from __future__ import annotations

from typing import Any

import orjson

from infra.bus.errors import InvalidMessage

__all__ = ["decode", "encode"]


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
