"""The collector endpoints: Prometheus remote-write, InfluxDB 1.x and 2.x writes, OTLP/HTTP.

Each one authenticates, decodes its body into columns, hands them to the ingest command
(the gateway) and answers in its protocol's terms: the statuses its senders act on (retry
on 429 and 5xx, drop on other 4xx) and the body they log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from domain.errors import VigilError
from domain.metrics.model import MetricDescription, MetricType
from domain.metrics.series_limits import SeriesLimitExceeded
from infra.collectors.decoded import DecodedPoints, DecodedSeries, DecodeError, MetricFamily
from infra.collectors.endpoints.answers import influx_error, otlp_error, prometheus_error
from infra.collectors.endpoints.gateway import (
    Caller,
    CollectorGateway,
    request_token,
    status_of,
)
from infra.collectors.influx import LineProtocolDecoder, v1_params, v2_params
from infra.collectors.otlp import OtlpDecoder
from infra.collectors.prometheus import RemoteWriteDecoder

__all__ = ["CollectorEndpoints", "descriptions_of"]

# The series a histogram or summary family is stored as; its description names the family.
_FAMILY_SUFFIXES: Final = {
    "histogram": ("_bucket", "_count", "_sum", ".bucket", ".count", ".sum"),
    "summary": ("_count", "_sum", ".count", ".sum"),
}

ErrorAnswer = Callable[[int, str], Response]


@dataclass(frozen=True, slots=True)
class _Decoded:
    points: DecodedPoints
    descriptions: Sequence[MetricDescription]
    answer: Response  # the success answer, sent once the points are durable


class CollectorEndpoints:
    """One decoder per endpoint, kept for the app's life (each caches the series it saw)."""

    def __init__(
        self,
        gateway: CollectorGateway,
        *,
        resource_tags: Collection[str],
        max_decoded_bytes: int,
        now_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        self.gateway = gateway
        self._remote_write = RemoteWriteDecoder(max_body=max_decoded_bytes)
        self._lines = LineProtocolDecoder(max_body=max_decoded_bytes)
        self._otlp = OtlpDecoder(resource_tags=resource_tags, max_body=max_decoded_bytes)
        self._now_us = now_us

    async def remote_write(self, request: Request) -> Response:
        """`POST /api/v1/write`: Prometheus remote-write 1.0 and 2.0."""

        def decode(body: bytes) -> _Decoded:
            result = self._remote_write.decode(
                body,
                content_type=request.headers.get("content-type"),
                content_encoding=request.headers.get("content-encoding"),
            )
            points = result.points
            if result.version == 1:
                described = [_of_family(f) for f in points.families]
            else:
                described = descriptions_of(points.series)
            return _Decoded(points, described, Response(status_code=204, headers=result.headers()))

        return await self._serve(request, decode, prometheus_error, source="prometheus")

    async def influx_v1(self, request: Request) -> Response:
        """`POST /write?db=...&precision=...`: InfluxDB 1.x line protocol."""
        return await self._influx(request, v2=False)

    async def influx_v2(self, request: Request) -> Response:
        """`POST /api/v2/write?org=...&bucket=...&precision=...`: InfluxDB 2.x line protocol."""
        return await self._influx(request, v2=True)

    async def otlp(self, request: Request) -> Response:
        """`POST /v1/metrics`: OTLP/HTTP metrics, protobuf or JSON."""
        is_json = "json" in request.headers.get("content-type", "").lower()

        def decode(body: bytes) -> _Decoded:
            result = self._otlp.decode(
                body,
                content_type=request.headers.get("content-type"),
                content_encoding=request.headers.get("content-encoding"),
            )
            content, media_type = result.response()
            answer = Response(content, 200, media_type=media_type)
            return _Decoded(result.points, descriptions_of(result.points.series), answer)

        def error(status: int, message: str) -> Response:
            return otlp_error(status, message, json=is_json)

        return await self._serve(request, decode, error, source="otlp")

    async def _influx(self, request: Request, *, v2: bool) -> Response:
        def decode(body: bytes) -> _Decoded:
            query = request.query_params
            params = v2_params(query) if v2 else v1_params(query)
            points = self._lines.decode(
                body,
                now_us=self._now_us(),
                precision=params.precision,
                content_encoding=request.headers.get("content-encoding"),
            )
            return _Decoded(points, (), Response(status_code=204))

        def error(status: int, message: str) -> Response:
            return influx_error(status, message, v2=v2)

        return await self._serve(request, decode, error, source="influx", password_param=not v2)

    async def _serve(
        self,
        request: Request,
        decode: Callable[[bytes], _Decoded],
        error: ErrorAnswer,
        *,
        source: str,
        password_param: bool = False,
    ) -> Response:
        gateway = self.gateway
        try:
            caller: Caller = await gateway.caller(
                request, request_token(request, password_param=password_param)
            )
        except VigilError as exc:
            return _refused(error, exc)
        body = await request.body()
        try:
            decoded = decode(body)
        except DecodeError as exc:
            await gateway.undecodable(caller, exc)
            return error(exc.status, exc.message)
        try:
            await gateway.store(
                caller, decoded.points, source=source, descriptions=decoded.descriptions
            )
        except (
            VigilError
        ) as exc:  # refused by validation (audited by the bus), a limit or admission
            return _refused(error, exc)
        return decoded.answer


def _refused(error: ErrorAnswer, exc: VigilError) -> Response:
    """The protocol's refusal; a rate limit or an overload says when to retry."""
    answer = error(status_of(exc), exc.message)
    retry_after = exc.details.get("retryAfter")
    if isinstance(exc, SeriesLimitExceeded):  # when the minute's oldest new series leaves
        retry_after = exc.retry_after_seconds
    if isinstance(retry_after, int):
        answer.headers["Retry-After"] = str(retry_after)
    return answer


def descriptions_of(series: Sequence[DecodedSeries]) -> list[MetricDescription]:
    """One description per family of the request's series that came with help or a unit
    (remote-write 2.0 and OTLP carry them on every series)."""
    found: dict[str, MetricDescription] = {}
    for one in series:
        if not (one.help or one.unit):
            continue
        name = _family_name(one.name, one.type)
        if name not in found:
            found[name] = MetricDescription(name, MetricType(one.type), one.help, one.unit)
    return list(found.values())


def _family_name(name: str, kind: str) -> str:
    for suffix in _FAMILY_SUFFIXES.get(kind, ()):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _of_family(family: MetricFamily) -> MetricDescription:
    return MetricDescription(family.name, MetricType(family.type), family.help, family.unit)
