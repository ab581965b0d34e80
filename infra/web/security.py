"""The headers of every page and asset Vigil serves to browsers: a Content-Security-Policy
that lets a page load only from Vigil itself and talk only to it."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["security_headers"]


def security_headers(request: Request) -> dict[str, str]:
    """No other host anywhere: scripts, styles, fonts and connections are Vigil's own
    (inline styles and data: fonts and images are what GraphiQL and uPlot need)."""
    host = request.headers.get("host", "")
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; "
            f"connect-src 'self' ws://{host} wss://{host}; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
