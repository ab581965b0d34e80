"""Settings of the MongoDB store, and what the server it talks to can do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MIN_SERVER", "MongoOptions", "ServerFeatures"]

MIN_SERVER = (7, 0)  # deletes by any field in time-series collections; 5.0 and 6.0 are EOL


@dataclass(frozen=True, slots=True)
class MongoOptions:
    """Everything about the store that is not in the URL (docs/decisions/0004)."""

    # Points older than this leave the time-series collection (its expireAfterSeconds);
    # idempotency keys expire with them.
    retention_seconds: int = 30 * 86_400
    # Collectors report every few seconds to a minute: "seconds" makes one-hour buckets.
    granularity: Literal["seconds", "minutes", "hours"] = "seconds"
    # An append is acknowledged once a majority of the replica set has it in its journal.
    write_concern_w: int | str = "majority"
    write_concern_j: bool = True
    write_timeout_ms: int = 10_000
    # Never hang: each of these bounds one kind of wait of the driver.
    server_selection_timeout_ms: int = 5_000
    connect_timeout_ms: int = 5_000
    socket_timeout_ms: int = 30_000
    # "exact" interpolates like numpy and DuckDB (the contract); "approximate" runs the
    # server's $percentile (t-digest): bounded memory on huge buckets, but not exact.
    percentiles: Literal["exact", "approximate"] = "exact"
    # Another instance may store a batch under the same key: wait this long for it, and
    # take a claim over once it is this old (its writer is then presumed dead).
    key_wait_seconds: float = 10.0
    key_stale_seconds: float = 120.0
    # Series stored by other instances reach this one's catalogue within this delay.
    catalogue_refresh_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.retention_seconds <= 0:
            raise ValueError("retention_seconds must be positive")
        if self.key_stale_seconds * 1000 <= self.socket_timeout_ms + self.write_timeout_ms:
            raise ValueError("key_stale_seconds must exceed the socket and write timeouts")


@dataclass(frozen=True, slots=True)
class ServerFeatures:
    """Operators the server runs; every MongoDB >= 7.0 has both.

    An emulator that lacks them (mongomock-ng) is opened with both False: percentiles are
    then interpolated in Python from the values the server groups.
    """

    version: str
    sort_array: bool = True  # $sortArray (5.2+): exact percentiles inside the server
    percentile: bool = True  # $percentile (7.0+): approximate percentiles

    @classmethod
    def of(cls, build_info: dict[str, object]) -> ServerFeatures:
        version = str(build_info.get("version", "?"))
        parts = build_info.get("versionArray")
        numbers = [int(p) for p in parts] if isinstance(parts, list) else []
        if tuple(numbers[:2]) < MIN_SERVER:
            raise ValueError(
                f"MongoDB {MIN_SERVER[0]}.{MIN_SERVER[1]} or later is needed;"
                f" the server runs {version}"
            )
        return cls(version)
