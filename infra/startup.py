"""Starting up, for the person at the terminal: where to go once Vigil runs, and one line
instead of a traceback when it cannot start for a reason they can fix."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import VigilError
from infra.config import ConfigError, Settings
from infra.dashboards.viewer import ASSETS as VIEWER_ASSETS
from infra.web import NPM_HINT, missing_libraries, token_command

__all__ = ["ConciseStartupFailure", "announce", "where_to_go"]

logger = logging.getLogger("vigil.start")

_VIEWER_LIBRARIES = tuple(p for p, _ in VIEWER_ASSETS.values() if p.startswith("node_modules/"))


class ConciseStartupFailure:
    """When the start fails with an error Vigil explains (a file in use by another Vigil, a
    store written by a newer one, an unusable setting), the server reports that message, not
    the traceback Starlette attaches to every lifespan failure."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def concise(message: Message) -> None:
            # Starlette sends the failure from inside its `except`: the error is at hand.
            error = sys.exception()
            if message["type"] == "lifespan.startup.failed" and isinstance(
                error, VigilError | ConfigError
            ):
                message = {**message, "message": f"Vigil cannot start: {error}"}
            await send(message)

        await self.app(scope, receive, concise)


def where_to_go(settings: Settings, web_dir: Path) -> str:
    """The lines printed once Vigil serves: its pages, how to get a token, where data is."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    base = f"http://{host}:{settings.port}"
    missing = missing_libraries(web_dir) + missing_libraries(web_dir, _VIEWER_LIBRARIES)
    if settings.production:
        graphiql = "off in production mode"
    elif missing:
        graphiql = f"not installed: {NPM_HINT}"
    else:
        graphiql = f"{base}/graphql"
    lines = [
        f"Vigil is ready: {base}/ ({settings.mode.value} mode)",
        f"  GraphiQL:    {graphiql}",
        f"  Dashboards:  {base}/dashboards?project=system"
        + (f" (not installed: {NPM_HINT})" if missing else ""),
        f"  A token:     {token_command()}",
        f"  Health:      {base}/readyz",
    ]
    if settings.store_url.startswith("duckdb:///"):
        lines.append(f"  Store:       {settings.store_url.removeprefix('duckdb:///')}")
    if not settings.secret and settings.auth_mode.value == "local":
        lines.append(f"  Secret:      {settings.secret_file} (what `vigil token` signs with)")
    if not settings.production and not _loopback(settings.host):
        lines.append(
            f"  Warning:     development mode listens on {settings.host}, beyond this machine: "
            "GraphiQL and introspection are open to the network; set VIGIL_MODE=production"
        )
    return "\n".join(lines)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False


def announce(settings: Settings, web_dir: Path) -> None:
    logger.info("%s", where_to_go(settings, web_dir))
