"""The `TokenVerifier` protocol and the signature checks every verifier shares."""

from __future__ import annotations

import binascii
import json
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExceededSizeError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from domain.access import Principal
from domain.errors import Unauthenticated

__all__ = ["MAX_TOKEN_LENGTH", "TokenVerifier", "decode_token", "read_header"]

#: Longer tokens are refused before any parsing; real ones are a few hundred bytes.
MAX_TOKEN_LENGTH = 16_384


class TokenVerifier(Protocol):
    """Turns a bearer token into a `Principal`, or raises `Unauthenticated`."""

    async def verify(self, token: str) -> Principal: ...


def read_header(token: str) -> Mapping[str, Any]:
    """Return the unverified JOSE header of a compact JWS, to choose the key and algorithm.

    Nothing in it is trusted: it only selects what the signature is checked with.
    """
    if not isinstance(token, str) or not token:
        raise Unauthenticated("token is missing", reason="malformed")
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("token is too large", reason="malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("token is malformed: expected a signed JWT", reason="malformed")
    try:
        segment = parts[0].encode("ascii")
        header = json.loads(_b64url_decode(segment))
    except (UnicodeError, ValueError, binascii.Error, RecursionError):
        raise Unauthenticated("token is malformed", reason="malformed") from None
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise Unauthenticated("token is malformed: no algorithm in header", reason="malformed")
    if "b64" in header or "enc" in header:
        # An unencoded (RFC 7797) or encrypted payload is never a Vigil access token.
        raise Unauthenticated("token is malformed", reason="malformed")
    return header


def decode_token(token: str, key: Key, *, algorithms: Collection[str]) -> dict[str, Any]:
    """Check the signature of `token` with `key` and return its (not yet validated) claims.

    Only `algorithms` are accepted, whatever the token's header says.
    """
    registry = JWSRegistry(algorithms=list(algorithms), strict_check_header=False)
    try:
        return jwt.decode(token, key, algorithms=list(algorithms), registry=registry).claims
    except BadSignatureError:
        raise Unauthenticated("token signature is invalid", reason="bad_signature") from None
    except UnsupportedAlgorithmError:
        raise Unauthenticated("token algorithm is not accepted", reason="bad_algorithm") from None
    except (InvalidKeyTypeError, InvalidKeyCurveError):
        raise Unauthenticated(
            "token algorithm does not match its signing key", reason="bad_algorithm"
        ) from None
    except ExceededSizeError:
        raise Unauthenticated("token is too large", reason="malformed") from None
    except (JoseError, ValueError, TypeError, KeyError, RecursionError):
        raise Unauthenticated("token is malformed", reason="malformed") from None


def _b64url_decode(segment: bytes) -> bytes:
    """Decode unpadded base64url, refusing the padded or standard alphabet forms."""
    if b"=" in segment or b"+" in segment or b"/" in segment:
        raise binascii.Error("not base64url")
    return binascii.a2b_base64(
        segment.replace(b"-", b"+").replace(b"_", b"/") + b"=" * (-len(segment) % 4),
        strict_mode=True,
    )
