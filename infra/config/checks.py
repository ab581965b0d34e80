"""Settings that cannot work are refused at start, each with the variable to fix."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infra.config.kinds import MAX_RETENTION_DAYS, AuthMode, ConfigError

if TYPE_CHECKING:
    from infra.config import Settings

__all__ = ["check_settings"]

MIN_STORE_MEMORY_MB = 64  # at 8-16 MiB DuckDB cannot aggregate 1M rows (decision 0029)


def check_settings(self: Settings) -> None:
    """Raise ConfigError, naming the variable and what to do, for a setting that cannot work."""
    if self.auth_mode is AuthMode.JWKS and not self.jwks_url:
        raise ConfigError("VIGIL_AUTH_MODE=jwks needs VIGIL_JWKS_URL")
    if not self.store_url.startswith(("duckdb:///", "mongodb://", "mongodb+srv://")):
        raise ConfigError(
            "VIGIL_STORE_URL must be duckdb:///relative/path, duckdb:////absolute/path "
            "or mongodb://..."
        )
    if not self.bus_url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError("VIGIL_BUS_URL must start with memory:// or redis://")
    try:
        ZoneInfo(self.anomaly_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"VIGIL_ANOMALY_TIMEZONE={self.anomaly_timezone!r} is not a time zone such as "
            "UTC or Europe/Paris"
        ) from None
    if self.production and self.notify_allow_loopback:
        raise ConfigError("VIGIL_NOTIFY_ALLOW_LOOPBACK is for development only")
    notify = (
        "tick_seconds",
        "timeout_seconds",
        "max_attempts",
        "retry_base_seconds",
        "secret_overlap_seconds",
        "template_timeout_seconds",
        "template_max_iterations",
        "template_max_output",
        "template_max_nesting",
        "template_memory_mb",
        "template_workers",
    )
    for name in (f"notify_{n}" for n in notify):
        if getattr(self, name) <= 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be positive")
    if self.statsd_addr and not self.statsd_project:
        raise ConfigError("VIGIL_STATSD_ADDR needs VIGIL_STATSD_PROJECT, the project it feeds")
    if self.statsd_addr and not _host_port(self.statsd_addr):
        raise ConfigError("VIGIL_STATSD_ADDR must be host:port, such as 127.0.0.1:8125")
    positive = (
        "max_columnar_points",
        "ingest_max_inflight_bytes",
        "ingest_max_inflight_requests",
        "ingest_max_pending_points",
        "ingest_commit_slots",
        "collector_max_decoded_bytes",
        "statsd_flush_seconds",
        "port",
        "max_body_bytes",
        "max_batch",
        "retention_days",
        "retention_raw_days",
        "idempotency_key_seconds",
        "alert_tick_seconds",
        "alert_lease_seconds",
        "ws_max_per_subject",
        "ws_max_per_client",
        "query_max_cost",
        "query_timeout_seconds",
        "query_max_heavy_per_caller",
        "store_compaction_partition_seconds",
    )
    for name in positive:
        if getattr(self, name) <= 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be positive")
    if self.store_compaction_partition_seconds % 60:
        raise ConfigError("VIGIL_STORE_COMPACTION_PARTITION_SECONDS must be whole minutes")
    if self.compliance_check_seconds < 0:
        raise ConfigError("VIGIL_COMPLIANCE_CHECK_SECONDS must be 0 (off) or positive")
    if self.store_compaction_seconds < 0:
        raise ConfigError("VIGIL_STORE_COMPACTION_SECONDS must be 0 (off) or positive")
    if self.store_block_bytes not in (16_384, 32_768, 65_536, 131_072, 262_144):
        raise ConfigError("VIGIL_STORE_BLOCK_BYTES must be 16384, 32768, 65536, 131072 or 262144")
    # Retention: accepted points must stay after 1970 (MongoDB's time-series expiry
    # stops for the whole collection on an earlier one); 10,000 days is 27 years.
    if self.retention_days > MAX_RETENTION_DAYS:
        raise ConfigError(f"VIGIL_RETENTION_DAYS must be at most {MAX_RETENTION_DAYS} (27 years)")
    if self.retention_raw_days > MAX_RETENTION_DAYS:
        raise ConfigError(f"VIGIL_RETENTION_RAW_DAYS must be at most {MAX_RETENTION_DAYS}")
    if self.retention_run_seconds < 0:
        raise ConfigError("VIGIL_RETENTION_RUN_SECONDS must be 0 (no runs) or more")
    for name in ("max_active_series", "max_new_series_per_minute"):
        if getattr(self, name) < 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be 0 (no limit) or more")
    if self.active_series_window_seconds <= 0:
        raise ConfigError("VIGIL_ACTIVE_SERIES_WINDOW_SECONDS must be positive")
    if self.store_memory_limit_mb != 0 and self.store_memory_limit_mb < MIN_STORE_MEMORY_MB:
        raise ConfigError(
            f"VIGIL_STORE_MEMORY_LIMIT_MB must be 0 (DuckDB's default, 80% of RAM) or at "
            f"least {MIN_STORE_MEMORY_MB}"
        )
    for name in ("rollup_seconds", "rollup_lag_seconds", "cost_step_seconds", "cost_lag_seconds"):
        if getattr(self, name) < 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be 0 or more")
    if self.usage_seconds < 0:
        raise ConfigError("VIGIL_USAGE_SECONDS must be 0 (no usage accounting) or more")
    if self.usage_keep_days < 1:
        raise ConfigError("VIGIL_USAGE_KEEP_DAYS must be at least 1")
    _check_analytics(self)
    _check_compliance(self)
    _check_edges(self)
    _check_rates(self)


def _check_edges(self: Settings) -> None:
    for origin in filter(None, (o.strip() for o in self.allowed_origins.split(","))):
        if origin != "*" and not _is_origin(origin):
            raise ConfigError(
                f"VIGIL_ALLOWED_ORIGINS: {origin!r} is not an origin such as "
                "https://grafana.example.com or http://10.0.0.5:3000 (or * for any)"
            )
    if self.bus_secret and len(self.bus_secret) < 32:
        raise ConfigError("VIGIL_BUS_SECRET must be at least 32 characters")
    shared_bus = self.bus_url.startswith(("redis://", "rediss://"))
    if shared_bus and not self.bus_secret and (self.production or self.auth_mode is AuthMode.JWKS):
        raise ConfigError(
            "VIGIL_BUS_SECRET is required with a redis:// bus in production mode or "
            "with VIGIL_AUTH_MODE=jwks: the same random value of 32+ characters on "
            "every instance (openssl rand -hex 32)"
        )


def _check_rates(self: Settings) -> None:
    for kind in ("caller_operations", "caller_points", "project_operations", "project_points"):
        rate, burst = f"rate_{kind}_per_second", f"rate_{kind}_burst"
        if getattr(self, rate) < 0:
            raise ConfigError(f"VIGIL_{rate.upper()} must be 0 (no limit) or more")
        if getattr(self, rate) > 0 and getattr(self, burst) < 1:
            raise ConfigError(f"VIGIL_{burst.upper()} must be at least 1")


def _check_analytics(self: Settings) -> None:
    positive = (
        "analytics_max_jobs",
        "analytics_max_jobs_per_project",
        "analytics_lease_seconds",
        "analytics_poll_seconds",
        "analytics_sync_max_points",
        "analytics_sync_timeout_seconds",
        "analytics_job_max_points",
        "analytics_job_timeout_seconds",
        "analytics_result_days",
    )
    for name in positive:
        if getattr(self, name) <= 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be positive")
    if self.store_compaction_partition_seconds % 60:
        raise ConfigError("VIGIL_STORE_COMPACTION_PARTITION_SECONDS must be whole minutes")
    if self.store_compaction_seconds < 0:
        raise ConfigError("VIGIL_STORE_COMPACTION_SECONDS must be 0 (off) or positive")
    if self.analytics_workers < 0:
        raise ConfigError("VIGIL_ANALYTICS_WORKERS must be 0 (one per core) or more")
    if not 0 <= self.analytics_worker_nice <= 19:
        raise ConfigError("VIGIL_ANALYTICS_WORKER_NICE must be between 0 and 19")


def _check_compliance(self: Settings) -> None:
    if bool(self.tls_cert_file) != bool(self.tls_key_file):
        raise ConfigError("VIGIL_TLS_CERT_FILE and VIGIL_TLS_KEY_FILE go together")
    for name in ("tls_cert_file", "tls_key_file"):
        path = getattr(self, name)
        if path and not os.path.isfile(path):
            raise ConfigError(f"VIGIL_{name.upper()}: no file {path!r}")
    positive = (
        "audit_checkpoint_seconds",
        "access_flush_seconds",
        "revocation_refresh_seconds",
        "health_watch_seconds",
        "security_log_per_source",
        "security_log_overall",
        "review_every_days",
        "stale_access_days",
        "max_token_days",
        "alert_ack_target_seconds",
        "clock_tolerance_seconds",
    )
    for name in positive:
        if getattr(self, name) <= 0:
            raise ConfigError(f"VIGIL_{name.upper()} must be positive")
    if self.store_compaction_partition_seconds % 60:
        raise ConfigError("VIGIL_STORE_COMPACTION_PARTITION_SECONDS must be whole minutes")
    if self.store_compaction_seconds < 0:
        raise ConfigError("VIGIL_STORE_COMPACTION_SECONDS must be 0 (off) or positive")


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or parts.username)
    )


def _host_port(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host.strip("[]")) and port.isdigit() and int(port) <= 65_535
