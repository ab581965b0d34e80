"""OTLP/HTTP metrics (`POST /v1/metrics`, protobuf or JSON, gzip) decoded into DecodedPoints.

Resource attributes become tags only when named in `resource_tags` (an allow-list keeps
series cardinality in check); data point attributes always do, and win on a clash. Data
points Vigil cannot store are listed in `rejected` (index: the data point's position in the
request) and counted in the `partial_success` answer; the others are stored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

from infra.collectors.bodies import DEFAULT_MAX_BODY, inflate
from infra.collectors.decoded import DecodedPoints, DecodeError
from infra.collectors.interning import DEFAULT_MAX_SERIES, SeriesInterner
from infra.collectors.otlp.convert import gather, series_of_key

__all__ = ["DEFAULT_RESOURCE_TAGS", "OtlpDecoder", "OtlpResult"]

DEFAULT_RESOURCE_TAGS: Final = frozenset({"service.name", "service.namespace", "host.name"})
_REQUEST: Any = metrics_service_pb2.ExportMetricsServiceRequest
_RESPONSE: Any = metrics_service_pb2.ExportMetricsServiceResponse


@dataclass(frozen=True, slots=True)
class OtlpResult:
    points: DecodedPoints
    json: bool  # answer in the request's encoding
    rejected_data_points: int

    def response(self) -> tuple[bytes, str]:
        """(body, Content-Type) of the success answer, with `partial_success` if any."""
        answer = _RESPONSE()
        if self.rejected_data_points:
            answer.partial_success.rejected_data_points = self.rejected_data_points
            first = self.points.rejected[0][1]
            more = self.rejected_data_points - 1
            answer.partial_success.error_message = first + (f" (and {more} more)" if more else "")
        if self.json:
            return json_format.MessageToJson(answer, indent=None).encode(), "application/json"
        return answer.SerializeToString(), "application/x-protobuf"


class OtlpDecoder:
    def __init__(
        self,
        *,
        resource_tags: Collection[str] = DEFAULT_RESOURCE_TAGS,
        max_body: int = DEFAULT_MAX_BODY,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        self._resource_tags = frozenset(resource_tags)
        self._max_body = max_body
        self._interner = SeriesInterner(max_entries=max_series)

    def decode(
        self, body: bytes, *, content_type: str | None, content_encoding: str | None = None
    ) -> OtlpResult:
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in ("application/x-protobuf", "application/json"):
            raise DecodeError(
                415,
                f"unsupported Content-Type {content_type!r}; "
                "use application/x-protobuf or application/json",
            )
        data = inflate(body, content_encoding, limit=self._max_body)
        is_json = media == "application/json"
        request = _REQUEST()
        try:
            if is_json:
                json_format.Parse(data, request, ignore_unknown_fields=True)
            else:
                request.ParseFromString(data)
        except (ProtobufDecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
            kind = "JSON" if is_json else "protobuf"
            message = f"the body is not a valid OTLP metrics {kind} request: {exc}"
            raise DecodeError(400, message) from None
        got = gather(request, self._resource_tags)
        series, index = self._interner.index(got.keys, series_of_key)
        points = DecodedPoints(
            series=series,
            series_index=index,
            timestamps_us=np.array(got.stamps_ns, dtype=np.int64) // 1000,
            values=np.array(got.values, dtype=np.float64),
            rejected=got.rejected,
        )
        return OtlpResult(points, is_json, len(got.rejected))
