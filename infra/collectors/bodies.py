"""Request bodies inflated under a size limit (gzip, snappy block), so a small body cannot
expand into gigabytes (a decompression bomb) before any check runs."""

from __future__ import annotations

import zlib
from typing import Final

import cramjam

from infra.collectors.decoded import DecodeError

__all__ = ["DEFAULT_MAX_BODY", "inflate", "inflate_gzip", "inflate_snappy"]

DEFAULT_MAX_BODY: Final = 64 * 1024 * 1024  # decoded bytes; the endpoint may choose less

_GZIP: Final = frozenset({"gzip", "x-gzip"})
_IDENTITY: Final = frozenset({"", "identity"})


def _too_large(limit: int) -> DecodeError:
    return DecodeError(413, f"the decoded body exceeds the limit of {limit} bytes")


def inflate(body: bytes, encoding: str | None, *, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """The body without its `Content-Encoding` (identity, gzip or snappy block)."""
    name = (encoding or "").strip().lower()
    if name in _IDENTITY:
        if len(body) > limit:
            raise _too_large(limit)
        return body
    if name in _GZIP:
        return inflate_gzip(body, limit=limit)
    if name == "snappy":
        return inflate_snappy(body, limit=limit)
    raise DecodeError(415, f"unsupported Content-Encoding {encoding!r}; use gzip or identity")


def inflate_gzip(body: bytes, *, limit: int = DEFAULT_MAX_BODY) -> bytes:
    # wbits 16 + MAX_WBITS: gzip header and trailer (CRC and length) are checked.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
        while inflater.eof and inflater.unused_data and len(out) <= limit:
            # Concatenated gzip members are one valid stream (RFC 1952 2.2).
            rest = inflater.unused_data
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += inflater.decompress(rest, limit + 1 - len(out))
    except zlib.error as exc:
        raise DecodeError(400, f"the body is not valid gzip: {exc}") from None
    if len(out) > limit:
        raise _too_large(limit)
    if not inflater.eof:
        raise DecodeError(400, "the body is not valid gzip: the stream is truncated")
    return out


def inflate_snappy(body: bytes, *, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """Snappy block format (Prometheus remote-write), not the framed stream format."""
    try:
        # The block starts with its decoded length: refuse before allocating it.
        size = cramjam.snappy.decompress_raw_len(body)
        if size > limit:
            raise _too_large(limit)
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise DecodeError(400, f"the body is not valid snappy (block format): {exc}") from None
