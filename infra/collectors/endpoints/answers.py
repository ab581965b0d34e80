"""Each protocol's way of saying no: the body and headers of an error answer."""

from __future__ import annotations

from typing import Final

import orjson
from starlette.responses import Response

from infra.collectors.endpoints.gateway import RETRY_AFTER_SECONDS

__all__ = ["influx_error", "otlp_error", "prometheus_error"]

_RETRYABLE: Final = frozenset({429, 503})

# InfluxDB 2.x error codes by status (its API's `code` field).
_INFLUX_CODES: Final[dict[int, str]] = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    413: "request too large",
    415: "unsupported media type",
    429: "too many requests",
    503: "unavailable",
}
# google.rpc.Code by status, for OTLP's Status answer.
_GRPC_CODES: Final[dict[int, int]] = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    413: 3,
    415: 3,
    429: 8,  # RESOURCE_EXHAUSTED
    503: 14,  # UNAVAILABLE
}


def _headers(status: int) -> dict[str, str]:
    """Senders retry 429 and 5xx; Retry-After tells them when (remote-write, OTLP)."""
    return {"Retry-After": str(RETRY_AFTER_SECONDS)} if status in _RETRYABLE else {}


def prometheus_error(status: int, message: str) -> Response:
    """Prometheus logs the text of a refusal; it drops the batch on 4xx (but 429)."""
    return Response(message + "\n", status, _headers(status), media_type="text/plain")


def influx_error(status: int, message: str, *, v2: bool) -> Response:
    """InfluxDB 1.x answers `{"error": ...}`, 2.x `{"code": ..., "message": ...}`."""
    if v2:
        body = {"code": _INFLUX_CODES.get(status, "internal error"), "message": message}
    else:
        body = {"error": message}
    headers = _headers(status)
    headers["X-Influxdb-Error"] = message[:200]
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def otlp_error(status: int, message: str, *, json: bool) -> Response:
    """A google.rpc.Status in the request's encoding (OTLP/HTTP, "Failures")."""
    code = _GRPC_CODES.get(status, 13)  # INTERNAL
    if json:
        body = orjson.dumps({"code": code, "message": message})
        return Response(body, status, _headers(status), media_type="application/json")
    return Response(
        _status_message(code, message),
        status,
        _headers(status),
        media_type="application/x-protobuf",
    )


def _status_message(code: int, message: str) -> bytes:
    """google.rpc.Status {int32 code = 1; string message = 2;} in protobuf wire format:
    two fields, not worth a dependency on googleapis-common-protos."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
