"""What every collector endpoint shares: who is calling and for which project, its rate
limit, the hand-over to the ingest command (whose admission, on the bus, bounds pending
points and charges the points), and the audit entry of a refusal."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from starlette.requests import Request

from domain.access import Principal, Role
from domain.errors import (
    BadUserInput,
    Forbidden,
    RateLimited,
    Unauthenticated,
    Unavailable,
    VigilError,
)
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.ingest import PointColumns
from domain.metrics.model import MetricDescription
from domain.metrics.series_limits import SeriesLimitExceeded
from domain.system.audit import AuditTrail
from infra.collectors.decoded import DecodedPoints, DecodeError

if TYPE_CHECKING:
    from infra.admission.buckets import RateLimits

__all__ = [
    "INGEST_ROLES",
    "Authenticate",
    "Caller",
    "CollectorGateway",
    "request_token",
    "status_of",
]

# Who may send through a collector endpoint (issue 16): a collector, and the people who
# could equally have sent the points through createMetrics or configured the agent.
INGEST_ROLES: Final = frozenset({Role.COLLECTOR, Role.EDITOR, Role.ADMIN})
ACTION: Final = "CreateMetricsCommand"  # refusals are audited as the command would be
RETRY_AFTER_SECONDS: Final = 1
# Tokens verified recently, kept until they expire (or for a minute at most, so that a
# JWKS key withdrawn by the identity provider stops working soon): agents send the same
# token every few seconds, and checking its signature was ~15% of a small request.
TOKEN_CACHE_SECONDS: Final = 60.0
TOKEN_CACHE_SIZE: Final = 10_000

_STATUS: Final[dict[str, int]] = {
    Unauthenticated.code: 401,
    Forbidden.code: 403,
    BadUserInput.code: 400,
    RateLimited.code: 429,
    Unavailable.code: 503,
}


def status_of(error: Exception) -> int:
    """The HTTP status of a refusal: the decoder's own, or the error code's."""
    if isinstance(error, DecodeError):
        return error.status
    if isinstance(error, SeriesLimitExceeded):
        # Past the per-minute limit, a retry soon succeeds: 429, which senders retry.
        # Past the active-series limit it would not until series go idle: 400, which
        # they drop (as Mimir answers its per-tenant series limit).
        return 429 if error.retry_after_seconds is not None else 400
    if isinstance(error, VigilError):
        return _STATUS.get(error.code, 500)
    return 500


class Authenticate(Protocol):
    """Vigil.authenticate: a principal, or Unauthenticated (audited)."""

    async def __call__(self, token: str | None, *, request_id: str = "") -> Principal: ...


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated sender and the project its points go to."""

    principal: Principal
    project: str
    request_id: str
    endpoint: str


class CollectorGateway:
    """Shared by the endpoints of one app; `authenticate` is Vigil's (audits bad tokens)."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        audit: AuditTrail,
        authenticate: Authenticate,
        rates: RateLimits,
    ) -> None:
        self._bus = bus
        self._audit = audit
        self._authenticate = authenticate
        self._rates = rates
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def caller(self, request: Request, token: str | None) -> Caller:
        """Authenticate, choose the project, check the role; refusals are audited."""
        scope = request.scope
        endpoint: str = scope["path"]
        request_id = scope.get("state", {}).get("request_id", "")
        # Parsed only when there is a query string (most writes have none).
        named = (scope["query_string"] and request.query_params.get("project")) or (
            request.headers.get("x-vigil-project")
        )
        try:
            if token is None:
                raise Unauthenticated("a token is required (Authorization: Bearer <token>)")
            principal = await self._principal(token, request_id)
        except Unauthenticated:
            # As GraphQL does: the token's refusal (audited by authenticate), then the
            # operation's, in the project the request named.
            outcome = Unauthenticated.code
            await self._refusal("anonymous", named or "", outcome, request_id, endpoint)
            raise
        self._rates.learn(token, principal.subject)
        self._rates.operation(principal.subject)  # RateLimited: 429
        writable = [p for p, role in principal.roles.items() if role in INGEST_ROLES]
        project = named or (writable[0] if len(writable) == 1 else None)
        if project is None and writable:
            raise BadUserInput(
                "the token may write to several projects: name one with the project query"
                " parameter or the X-Vigil-Project header"
            )
        if project is None or project not in writable:
            project = project or ""
            await self._refusal(principal.subject, project, Forbidden.code, request_id, endpoint)
            where = f"in project {project!r}" if project else "in any project"
            raise Forbidden(f"this token may not write metrics {where}")
        return Caller(principal, project, request_id, endpoint)

    async def _principal(self, token: str, request_id: str) -> Principal:
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        principal = await self._authenticate(token, request_id=request_id)  # audits refusals
        until = now + TOKEN_CACHE_SECONDS
        if principal.expires_at is not None:
            until = min(until, principal.expires_at)
        if len(self._verified) >= TOKEN_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, until)
        return principal

    async def store(
        self,
        caller: Caller,
        points: DecodedPoints,
        *,
        source: str,
        descriptions: Sequence[MetricDescription] = (),
    ) -> int:
        """Points (and descriptions) through the same command as createMetrics; the count
        stored, after a durable commit. Nothing to store is not an error: 0."""
        count = len(points)
        if not count and not descriptions:
            return 0
        columns = PointColumns(
            points.series, points.series_index, points.timestamps_us, points.values, source=source
        )
        command = CreateMetricsCommand(
            caller.project, columns if count else [], descriptions=tuple(descriptions)
        )
        receipt = await self._bus.handle(
            command, actor=caller.principal.subject, request_id=caller.request_id
        )
        return int(receipt.accepted)

    async def undecodable(self, caller: Caller, error: DecodeError) -> None:
        """A body that could not be decoded is refused as a bad batch would be."""
        await self._refusal(
            caller.principal.subject,
            caller.project,
            BadUserInput.code,
            caller.request_id,
            caller.endpoint,
            status=error.status,
            reason=error.message,
        )

    async def _refusal(
        self,
        actor: str,
        project: str,
        outcome: str,
        request_id: str,
        endpoint: str,
        *,
        status: int | None = None,
        reason: str = "",
    ) -> None:
        detail: dict[str, object] = {"endpoint": endpoint}
        if status is not None:
            detail["status"] = status
        if reason:
            detail["reason"] = reason[:500]
        await self._audit.record(
            actor=actor,
            action=ACTION,
            project=project,
            outcome=outcome,
            request_id=request_id,
            detail=detail,
        )


def request_token(request: Request, *, password_param: bool = False) -> str | None:
    """The token of a request: `Authorization: Bearer <t>` or `Token <t>` (InfluxDB 2 clients;
    `Token <user>:<t>` from 1.x-compatible ones), HTTP Basic with the token as password,
    or, when `password_param`, the `p` query parameter (InfluxDB 1.x clients)."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, value = header.partition(" ")
    value = value.strip()
    kind = scheme.lower()
    if kind in ("bearer", "token") and value and " " not in value:
        # a JWT holds no ":", so "<user>:<token>" splits safely
        return value.rpartition(":")[2] or None
    if kind == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    if password_param:
        return request.query_params.get("p") or None
    return None
