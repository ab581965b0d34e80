"""The ASGI app: GraphQL over HTTP and websocket at /graphql, health at /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import OperationType
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from domain.errors import RateLimited, VigilError
from domain.ports import Clock
from domain.system.queries import GetSystemHealthQuery
from infra.admission import Admission, AdmissionEdge
from infra.auth import bearer_token
from infra.bootstrap import StoreDatabase, Vigil
from infra.client_watch import ClientGone, while_connected
from infra.collectors.endpoints import collector_endpoints, collector_routes
from infra.config import Settings
from infra.dashboards import viewer_routes
from infra.dashboards.viewer import DEFAULT_WEB_DIR
from infra.http import BodyLimit, RequestObserver
from infra.reports.download import download_routes
from infra.request_errors import SUBSCRIPTION_OVER_HTTP, request_error
from infra.selfmon import SelfMonitor
from infra.startup import ConciseStartupFailure, StartingGate, announce, start_failure
from infra.web import asset_routes, graphiql_page, page_routes
from infra.ws import GraphQLWebSocket, OriginPolicy, SocketCounts
from infra.ws.connection import PROTOCOL
from schema.context import VigilContext
from schema.documents import operation_type
from schema.errors import RETRY_KEY

__all__ = ["create_app"]

_CONTEXT_KEY = "vigil_context"  # the request's context, for the answer's Retry-After


class GraphQLHTTP(GraphQL[VigilContext, None]):
    """Strawberry's HTTP view with orjson and a context carrying the caller's principal."""

    def __init__(self, vigil: Vigil, web_dir: Path) -> None:
        self.web_dir = web_dir
        super().__init__(
            vigil.schema,
            graphql_ide=None if vigil.settings.production else "graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.vigil = vigil

    async def render_graphql_ide(self, request: Any) -> Response:
        """Vigil's own GraphiQL page (infra/web), not Strawberry's, which loads from a CDN."""
        return graphiql_page(request, self.web_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, except that a refused request is answered in GraphQL's shape."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await while_connected(receive, lambda body: self._answer(scope, body))
        except ClientGone:
            return  # its work was cancelled; nobody is left to answer
        context = scope.get("state", {}).get(_CONTEXT_KEY)
        refusal = context.extra.get(RETRY_KEY) if isinstance(context, VigilContext) else None
        if refusal is not None:  # a rate limit or an overload: when to come back
            code, seconds = refusal
            response.status_code = 429 if code == RateLimited.code else 503
            response.headers["Retry-After"] = str(seconds)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        request = Request(scope, receive)
        try:
            return await self.run(request)
        except HTTPException as exc:
            content_type = request.headers.get("content-type", "")
            return request_error(exc.status_code, exc.reason, content_type=content_type)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: VigilContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Refuses subscriptions before they run: over HTTP they cannot stream here. A
        query runs within VIGIL_QUERY_TIMEOUT_SECONDS (infra/query_timeout.py)."""
        kind = None
        if isinstance(request_data, GraphQLRequestData) and isinstance(request_data.query, str):
            kind = operation_type(request_data.query, request_data.operation_name)
        if kind is OperationType.SUBSCRIPTION:
            raise HTTPException(400, SUBSCRIPTION_OVER_HTTP)
        execution = super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if kind is OperationType.QUERY:
            result = await self.vigil.query_timeout.run(execution)
        else:
            result = await execution
        retry_after = _retry_after(result)
        if retry_after is not None:
            sub_response.headers["Retry-After"] = str(retry_after)
        return result

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Any, response: Any) -> VigilContext:
        context = await self._context(request)
        request.scope.setdefault("state", {})[_CONTEXT_KEY] = context
        return context

    async def _context(self, request: Any) -> VigilContext:
        request_id = request.scope.get("state", {}).get("request_id", "")
        client = request.client.host if request.client else ""
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            return self.vigil.context(None, request_id, client=client)
        try:
            principal = await self.vigil.authenticate(token, request_id=request_id, client=client)
        except VigilError as exc:  # Unauthenticated, or Unavailable when the IdP is down
            return self.vigil.context(None, request_id, auth_error=exc, client=client)
        rates = self.vigil.admission.rates
        rates.learn(token, principal.subject)
        try:
            rates.operation(principal.subject)
        except RateLimited as exc:  # every field that needs the caller answers it
            return self.vigil.context(None, request_id, auth_error=exc, client=client)
        return self.vigil.context(principal, request_id, client=client)


def _retry_after(result: Any) -> int | None:
    """Seconds to wait when an error says UNAVAILABLE (a full disk, a store reopening)."""
    waits = [
        int((error.extensions or {}).get("retry_after_seconds") or 1)
        for error in getattr(result, "errors", None) or ()
        if (error.extensions or {}).get("code") == "UNAVAILABLE"
    ]
    return max(waits) if waits else None


class _GraphQLEndpoint:
    """Delegates to the view built at start-up (the schema exists only once Vigil runs)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["app"].state.graphql_http(scope, receive, send)


async def graphql_ws(websocket: WebSocket) -> None:
    vigil: Vigil = websocket.app.state.vigil
    client = websocket.client.host if websocket.client else ""
    origins: OriginPolicy = websocket.app.state.origins
    origin = websocket.headers.get("origin")
    if not origins.allows(origin, websocket.headers.get("host")):
        await _deny_origin(websocket, origin or "")
        return
    counts: SocketCounts = websocket.app.state.socket_counts
    refused = counts.admit_client(client)
    if refused is not None:  # accept first: a close before accept is an HTTP 403
        await websocket.accept(subprotocol=_offered_protocol(websocket))
        await websocket.close(4429, refused)
        return
    try:
        await _serve_socket(websocket, vigil, client, counts)
    finally:
        counts.release_client(client)


async def _serve_socket(
    websocket: WebSocket, vigil: Vigil, client: str, counts: SocketCounts
) -> None:
    async def authenticate(payload: dict[str, Any]) -> Any:
        return await vigil.authenticate_socket(payload, client=client)

    connection = GraphQLWebSocket(
        websocket,
        schema=vigil.schema,
        groups=vigil.groups,
        authenticate=authenticate,
        make_context=lambda principal, request_id: vigil.context(
            principal, request_id, client=client
        ),
        limits=vigil.ws_limits,
        query_timeout=vigil.query_timeout,
        counts=counts,
    )
    vigil.monitor.websockets += 1
    vigil.compliance.sockets.add(connection)  # a revocation ends it (infra/compliance)
    try:
        await connection.serve()
    finally:
        vigil.compliance.sockets.discard(connection)
        vigil.monitor.websockets -= 1


def _offered_protocol(websocket: WebSocket) -> str | None:
    offered = websocket.scope.get("subprotocols") or []
    return PROTOCOL if PROTOCOL in offered else None


async def _deny_origin(websocket: WebSocket, origin: str) -> None:
    """HTTP 403 before the handshake, with a body that says why where the server can send
    one (uvicorn can: the websocket denial response extension)."""
    message = (
        f"websocket refused: Origin {origin[:100]!r} is not allowed; the server's own pages "
        "are, and VIGIL_ALLOWED_ORIGINS lists others"
    )
    if "websocket.http.response" not in websocket.scope.get("extensions", {}):
        await websocket.close(1008, message)  # before accept: HTTP 403
        return
    body = {"errors": [{"message": message, "extensions": {"code": "FORBIDDEN"}}]}
    await websocket.send_denial_response(JSONResponse(body, status_code=403))


async def healthz(request: Request) -> Response:
    """Liveness: the process answers, and its store is not past recovering by itself (a
    database DuckDB invalidated that could not be reopened for VIGIL_STORE_RECOVER_SECONDS:
    a restart is what is left)."""
    vigil: Vigil | None = getattr(request.app.state, "vigil", None)
    liveness = getattr(vigil.stores, "liveness", None) if vigil is not None else None
    if vigil is not None and liveness is not None:
        reason = liveness(recover_seconds=vigil.settings.store_recover_seconds)
        if reason:
            return JSONResponse({"status": "down", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: every dependency answers; 503 names the ones that do not. A degraded
    component (failing deliveries, a filling disk) is reported, not a reason to stop
    taking traffic."""
    vigil: Vigil = request.app.state.vigil
    health = await vigil.bus.ask(GetSystemHealthQuery())
    body = {
        "status": health.status,
        "components": {
            c.name: {
                "status": c.status,
                "latency_ms": round(c.latency_ms, 2),
                **({"detail": c.detail} if c.status != "ok" and c.detail else {}),
            }
            for c in health.components
        },
    }
    down = any(c.status == "down" for c in health.components)
    return JSONResponse(body, status_code=503 if down else 200)


def create_app(
    settings: Settings | None = None,
    *,
    tune_gc: bool = False,
    database: StoreDatabase | None = None,
    notifications_clock: Clock | None = None,
    on_start_failure: Callable[[], None] | None = None,
) -> Starlette:
    """The app; `tune_gc` is for a server process of its own (`vigil serve`), not tests.
    `database`: a store opened by the caller, to share it between apps in one process.
    `notifications_clock`: the notification runtime's clock, for tests that move it.
    `on_start_failure`: start in the background, so that the server listens at once and
    answers "starting" meanwhile (StartingGate); called if the start fails (after the
    reason is logged): `vigil serve` then stops its server. Without it, the lifespan
    returns once Vigil runs, and a failed start fails the lifespan."""
    settings = settings or Settings.from_env()
    admission = Admission.of(settings)  # shared by the edge below and the bus
    monitor = SelfMonitor(instance=f"{settings.host}:{settings.port}")
    web_dir = Path(settings.web_dir) if settings.web_dir else DEFAULT_WEB_DIR
    origins = OriginPolicy.parse(
        settings.allowed_origins.split(","), local_any_port=not settings.production
    )
    socket_counts = SocketCounts(settings.ws_max_per_subject, settings.ws_max_per_client)

    async def start(app: Starlette) -> None:
        vigil = await Vigil.start(
            settings,
            monitor=monitor,
            database=database,
            notifications_clock=notifications_clock,
            admission=admission,
        )
        try:
            app.state.graphql_http = GraphQLHTTP(vigil, web_dir)
            app.state.collectors = collector_endpoints(vigil)
        except BaseException:
            await vigil.close()
            raise
        app.state.vigil = vigil  # last: StartingGate opens on it
        announce(settings, web_dir)
        if tune_gc:
            # What exists now lives as long as the process: keep it out of every collection,
            # and collect less often than the default (a 5,000-point body allocates ~10k
            # containers: 700 made decoding it 40% slower), but not so rarely that one
            # young collection stalls every request: 50,000 made them 22-32 ms, a third of
            # a quiet tenant's p99 under another's flood (docs/performance.md, "Tenants").
            gc.freeze()
            gc.set_threshold(5_000, 10, 100)

    async def start_behind_port(app: Starlette, failed: Callable[[], None]) -> None:
        try:
            await start(app)
        except Exception as error:  # Vigil.start has released what it opened
            start_failure(error)
            failed()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        starting: asyncio.Task[None] | None = None
        if on_start_failure is None:
            await start(app)
        else:
            starting = asyncio.create_task(start_behind_port(app, on_start_failure))
        try:
            yield
        finally:
            if starting is not None:  # stopped while starting: Vigil.start cleans up
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            vigil: Vigil | None = getattr(app.state, "vigil", None)
            if vigil is not None:
                await vigil.close()

    app = Starlette(
        routes=[
            # The busiest first: the router tries each route's pattern in turn (~2 us).
            Route("/graphql", _GraphQLEndpoint(), methods=["GET", "POST"]),
            *collector_routes(),  # remote-write, InfluxDB, OTLP (docs/collectors.md)
            WebSocketRoute("/graphql", graphql_ws),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *viewer_routes(settings.web_dir or None),
            *page_routes(web_dir, graphiql=not settings.production),
            *asset_routes(web_dir),
            *download_routes(),  # a report run's files (docs/reports.md)
        ],
        middleware=[
            Middleware(ConciseStartupFailure),
            Middleware(StartingGate),
            Middleware(RequestObserver, observe=monitor.observe_request),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(
                AdmissionEdge,
                rates=admission.rates,
                inflight=admission.inflight,
                collector_paths=[route.path for route in collector_routes()],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.origins = origins
    app.state.socket_counts = socket_counts
    return app
