"""Settings of the MongoDB store, and what the server it talks to runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# A time-series collection stops expiring anything once it holds a point dated before
# 1970 (MongoDB's TTL and bucket rules), and points up to the retention are accepted: a
# retention of at most 10,000 days (27 years) keeps every accepted point after 1970.
from infra.config import MAX_RETENTION_DAYS

__all__ = ["MAX_RETENTION_DAYS", "MongoOptions", "ServerFeatures"]


@dataclass(frozen=True, slots=True)
class MongoOptions:
    """Everything about the store that is not in the URL (docs/decisions/0004 and
    0021)."""

    # The retention a NEW database starts with. An existing database keeps its stored
    # setting (retention.py): `vigil retention DAYS` changes it for every instance.
    retention_seconds: int = 30 * 86_400
    # Collectors report every few seconds to a minute: "seconds" makes one-hour buckets.
    granularity: Literal["seconds", "minutes", "hours"] = "seconds"
    # An append is acknowledged once a majority of the replica set has it in its journal.
    write_concern_w: int | str = "majority"
    write_concern_j: bool = True
    # Client-side operation timeout (the driver's timeoutMS): it bounds every call,
    # server selection included, and is sent to the server as maxTimeMS. Longer than an
    # election (up to ~12 s), so a failover delays a write instead of failing it.
    timeout_ms: int = 30_000
    connect_timeout_ms: int = 10_000
    # "exact" interpolates like numpy and DuckDB (the contract); "approximate" runs the
    # server's $percentile (t-digest): bounded memory on huge buckets, but not exact.
    percentiles: Literal["exact", "approximate"] = "exact"
    # An exact percentile holds a bucket's values in one group, which the server caps
    # at 100 MiB: a bucket with more values than this is refused with a hint instead.
    percentile_max_values: int = 1_000_000
    # Series ids go to the server in one `$in`; a command is at most 16 MiB.
    max_series_per_query: int = 200_000
    # Another instance may store a batch under the same key: wait this long for it, and
    # take a claim over once it is this old (its writer is then presumed dead).
    key_wait_seconds: float = 10.0
    key_stale_seconds: float = 120.0
    # Series and failed batches of other instances reach this one within this delay
    # (one small read per project), and counts are reconciled at the slower period.
    catalogue_refresh_seconds: float = 1.0
    catalogue_reconcile_seconds: float = 60.0
    # How far the clocks of instances may disagree, plus the longest write: the window
    # a refresh looks back over for series another instance stored.
    catalogue_lookback_seconds: float = 90.0

    def __post_init__(self) -> None:
        if not 0 < self.retention_seconds <= MAX_RETENTION_DAYS * 86_400:
            raise ValueError(f"the retention must be 1 to {MAX_RETENTION_DAYS} days")
        if self.key_stale_seconds * 1000 <= self.timeout_ms:
            raise ValueError("key_stale_seconds must exceed the operation timeout")
        if self.catalogue_lookback_seconds * 1000 <= self.timeout_ms:
            raise ValueError("catalogue_lookback_seconds must exceed the operation timeout")
        if self.percentile_max_values <= 0 or self.max_series_per_query <= 0:
            raise ValueError("percentile_max_values and max_series_per_query must be positive")


@dataclass(frozen=True, slots=True)
class ServerFeatures:
    """The server's version and feature compatibility version, checked at open (server.py)."""

    version: str
    fcv: str = ""
