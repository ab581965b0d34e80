"""Prometheus remote-write 1.0 and 2.0 request bodies decoded into DecodedPoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from infra.collectors.bodies import DEFAULT_MAX_BODY, inflate_snappy
from infra.collectors.decoded import DecodedPoints, DecodeError
from infra.collectors.interning import DEFAULT_MAX_SERIES, SeriesInterner
from infra.collectors.prometheus.fast import decode_v1_fast
from infra.collectors.prometheus.fast_v2 import V2State, decode_v2_fast
from infra.collectors.prometheus.generic import decode_v1, decode_v2

__all__ = [
    "CONTENT_TYPE_V1",
    "CONTENT_TYPE_V2",
    "RemoteWriteDecoder",
    "RemoteWriteResult",
    "remote_write_version",
]

CONTENT_TYPE_V1: Final = "application/x-protobuf;proto=prometheus.WriteRequest"
CONTENT_TYPE_V2: Final = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
_PROTOS: Final[dict[str, Literal[1, 2]]] = {
    "prometheus.writerequest": 1,
    "io.prometheus.write.v2.request": 2,
}


def remote_write_version(content_type: str | None) -> Literal[1, 2]:
    """The remote-write version a `Content-Type` names; 415 for any other type.

    No header at all reads as 1.0, as bare `application/x-protobuf` does (the 1.0 spec).
    """
    if content_type is None or not content_type.strip():
        return 1
    media, *params = (part.strip() for part in content_type.split(";"))
    if media.lower() != "application/x-protobuf":
        raise DecodeError(
            415, f"unsupported Content-Type {content_type!r}; expected application/x-protobuf"
        )
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "proto":
            version = _PROTOS.get(value.strip().strip('"').lower())
            if version is None:
                raise DecodeError(
                    415,
                    f"unsupported remote-write message {value.strip()!r}; expected "
                    "prometheus.WriteRequest or io.prometheus.write.v2.Request",
                )
            return version
    return 1


@dataclass(frozen=True, slots=True)
class RemoteWriteResult:
    points: DecodedPoints
    version: Literal[1, 2]
    samples_written: int  # accepted samples; staleness markers count, as they were honoured
    histograms_written: int  # native histograms, each stored as `<name>_count` and `_sum`
    exemplars_written: int  # always 0: exemplars are not stored

    def headers(self) -> dict[str, str]:
        """The response headers remote-write 2.0 requires (harmless for 1.0 senders)."""
        return {
            "X-Prometheus-Remote-Write-Samples-Written": str(self.samples_written),
            "X-Prometheus-Remote-Write-Histograms-Written": str(self.histograms_written),
            "X-Prometheus-Remote-Write-Exemplars-Written": str(self.exemplars_written),
        }


class RemoteWriteDecoder:
    """Decodes `POST /api/v1/write` bodies; keeps a cache of the series it has seen."""

    def __init__(
        self, *, max_body: int = DEFAULT_MAX_BODY, max_series: int = DEFAULT_MAX_SERIES
    ) -> None:
        self._max_body = max_body
        self._v1 = SeriesInterner(max_entries=max_series)
        self._v2 = SeriesInterner(max_entries=max_series)
        self._v2_state = V2State(self._v2, max_symbols=4 * max_series)

    def decode(
        self, body: bytes, *, content_type: str | None, content_encoding: str | None = "snappy"
    ) -> RemoteWriteResult:
        version = remote_write_version(content_type)
        encoding = (content_encoding or "snappy").strip().lower()
        if encoding != "snappy":
            raise DecodeError(
                415, f"unsupported Content-Encoding {content_encoding!r}; remote-write uses snappy"
            )
        data = inflate_snappy(body, limit=self._max_body)
        if version == 1:
            decoded = decode_v1_fast(data, self._v1) or decode_v1(data, self._v1)
        else:
            decoded = decode_v2_fast(data, self._v2_state) or decode_v2(data, self._v2)
        return RemoteWriteResult(
            decoded.points, version, decoded.samples, decoded.histograms, decoded.exemplars
        )
