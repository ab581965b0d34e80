"""Starting up, for the person at the terminal: where to go once Vigil runs, and one line
instead of a traceback when it cannot start for a reason they can fix; and, while the
start runs behind a port already listening (`vigil serve` binds first), answers that say
so instead of a refused connection."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from domain.errors import VigilError
from infra.collectors import scan
from infra.config import ConfigError, Settings
from infra.dashboards.viewer import ASSETS as VIEWER_ASSETS
from infra.web import NPM_HINT, missing_libraries, token_command

__all__ = ["ConciseStartupFailure", "StartingGate", "announce", "start_failure", "where_to_go"]

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


STARTING = "Vigil is starting: try again in a moment"
RETRY_AFTER_SECONDS = 1


class StartingGate:
    """Until the start has finished (`app.state.vigil` is set, last), answers every request
    itself: `/healthz` 200 (the process lives), `/readyz` 503, anything else 503
    `UNAVAILABLE` with `Retry-After`, and a websocket is closed 1013 (try again later), so
    that a supervisor, a load balancer and a client each see a start, not a dead port.
    Once Vigil runs it only passes requests on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._open = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._open or scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if getattr(scope["app"].state, "vigil", None) is not None:
            self._open = True
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            socket = WebSocket(scope, receive, send)
            offered = scope.get("subprotocols") or []
            await socket.accept(subprotocol=offered[0] if offered else None)
            await socket.close(1013, STARTING)  # a close before accept would be HTTP 403
            return
        path = scope.get("path", "")
        if path == "/healthz":
            response = JSONResponse({"status": "starting"})
        elif path == "/readyz":
            response = JSONResponse({"status": "starting", "components": {}}, status_code=503)
        else:
            error = {"message": STARTING, "extensions": {"code": "UNAVAILABLE"}}
            response = JSONResponse(
                {"errors": [error]},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        await response(scope, receive, send)


def start_failure(error: BaseException) -> None:
    """Log why a start running behind the listening port failed, as ConciseStartupFailure
    would have: one line for an error Vigil explains, the traceback for anything else."""
    if isinstance(error, VigilError | ConfigError):
        logger.error("Vigil cannot start: %s", error)
    else:
        logger.error("Vigil cannot start", exc_info=error)


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
    if not scan.COMPILED:
        lines.append(
            "  Collectors:  the compiled body scanners were not built (the install needs gcc"
            " and the Python headers): Prometheus and InfluxDB writes cost ~3x the CPU"
        )
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
