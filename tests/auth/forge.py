"""Hand-built JWTs, for the tokens that joserfc rightly refuses to produce."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["b64url", "forge", "forge_hs256", "swap_payload"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with whatever header, claims and signature bytes are given."""
    return f"{_segment(header)}.{_segment(claims)}.{b64url(signature)}"


def forge_hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """A correctly MACed HS256 token with `secret`, whatever `secret` is."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def swap_payload(token: str, claims: dict[str, Any]) -> str:
    """Replace the claims of a signed token, keeping its header and signature."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"
