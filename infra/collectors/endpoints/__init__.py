"""The collector endpoints over HTTP, and the StatsD listener (docs/collectors.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infra.collectors.endpoints.gateway import INGEST_ROLES, CollectorGateway
from infra.collectors.endpoints.protocols import CollectorEndpoints
from infra.collectors.endpoints.statsd import parse_address, start_statsd

if TYPE_CHECKING:
    from infra.bootstrap import Vigil

__all__ = [
    "INGEST_ROLES",
    "CollectorEndpoints",
    "CollectorGateway",
    "collector_endpoints",
    "collector_routes",
    "parse_address",
    "start_statsd",
]


def collector_endpoints(vigil: Vigil) -> CollectorEndpoints:
    """The endpoints of a started Vigil, sharing its bus, audit trail and token checks."""
    settings = vigil.settings
    gateway = CollectorGateway(
        bus=vigil.bus,
        audit=vigil.audit,
        authenticate=vigil.authenticate,
        rates=vigil.admission.rates,
    )
    tags = [t.strip() for t in settings.otlp_resource_tags.split(",") if t.strip()]
    return CollectorEndpoints(
        gateway, resource_tags=tags, max_decoded_bytes=settings.collector_max_decoded_bytes
    )


def collector_routes() -> list[Route]:
    """The routes; each finds the endpoints the app's start-up put in `app.state.collectors`."""

    def via(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            endpoints: CollectorEndpoints = request.app.state.collectors
            answer: Response = await getattr(endpoints, name)(request)
            return answer

        endpoint.__name__ = name
        return endpoint

    return [
        Route("/api/v1/write", via("remote_write"), methods=["POST"]),
        Route("/write", via("influx_v1"), methods=["POST"]),
        Route("/api/v2/write", via("influx_v2"), methods=["POST"]),
        Route("/v1/metrics", via("otlp"), methods=["POST"]),
    ]
