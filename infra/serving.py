"""The uvicorn options that come from Vigil's settings, shared by `vigil serve` and the
tests' servers so that both enforce the same protocol limits.

The websocket message limit is the server's: uvicorn refuses a message over
`ws_max_size` bytes with close code 1009 as the frame arrives, before buffering it, for
text and binary frames alike. Vigil has no second check behind it (docs/api.md).
"""

from __future__ import annotations

from typing import Any

from infra.config import Settings

__all__ = ["server_options"]


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` besides the app and address."""
    options: dict[str, Any] = {"ws_max_size": settings.ws_max_message_bytes}
    if settings.tls_cert_file:  # TLS by uvicorn's own options: HTTPS and WSS only
        options |= {"ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}
    return options
