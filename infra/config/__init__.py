"""Typed settings read once from `VIGIL_*` environment variables."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.config.checks import check_settings
from infra.config.kinds import MAX_RETENTION_DAYS, AuthMode, ConfigError, Mode

__all__ = [
    "MAX_RETENTION_DAYS",
    "AuthMode",
    "ConfigError",
    "Mode",
    "Settings",
    "default_data_dir",
]

_CHECKOUT = Path(__file__).resolve().parents[2]  # the checkout: infra/config/ is two below


def default_data_dir() -> Path:
    """Where the embedded store and the token secret live unless VIGIL_DATA_DIR says: `var/`
    of the checkout Vigil runs from, else the user's data folder (XDG). Never the working
    directory, so `vigil token` run anywhere signs with the secret `vigil serve` checks."""
    if (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "vigil"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting with its default; `VIGIL_<NAME>` in upper case overrides each."""

    mode: Mode = Mode.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = ""  # the embedded store and the secret; empty: default_data_dir()
    store_url: str = ""  # empty: duckdb:///<data_dir>/vigil.duckdb
    bus_url: str = "memory://"
    auth_mode: AuthMode = AuthMode.LOCAL
    secret: str = ""  # HS256 secret; empty: read or create `secret_file`
    secret_file: str = ""  # empty: <data_dir>/secret.key
    jwks_url: str = ""
    jwt_issuer: str = "vigil"
    jwt_audience: str = "vigil"
    token_cache_size: int = 10_000  # tokens kept verified until exp (infra/auth/cache.py); 0: off
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 10_000
    # Series limits per project (docs/metrics.md, "Series limits"); 0 turns one off
    max_active_series: int = 100_000  # series with a point in the window below
    max_new_series_per_minute: int = 20_000  # series becoming active in any 60 s
    active_series_window_seconds: float = 3_600.0
    # Retention (docs/retention.md): the instance-wide ceiling of raw points (and MongoDB's
    # collection expiry); projects keep raw points `retention_raw_days` unless their policy says
    retention_days: int = 30
    retention_raw_days: int = 15  # a project without a policy; capped by retention_days
    retention_run_seconds: float = 3_600.0  # how often policies are applied; 0: never
    idempotency_key_seconds: float = 86_400.0  # then a batch sent again is stored again
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5_000
    query_max_cost: int = 25_000  # estimated before execution (docs/security.md); then refused
    query_timeout_seconds: float = 30.0  # a query running longer is stopped: TIMEOUT
    query_max_heavy_per_caller: int = 2  # reads of stored points at once; then RATE_LIMITED
    ws_max_subscriptions: int = 100
    ws_max_message_bytes: int = 64 * 1024
    ws_queue_messages: int = 1_000
    ws_init_timeout_seconds: float = 5.0
    ws_send_timeout_seconds: float = 10.0  # one message blocked this long: 1013
    ws_max_per_subject: int = 20  # open websockets per token subject, per instance; then 4429
    ws_max_per_client: int = 200  # open websockets per client address, per instance; then 4429
    allowed_origins: str = ""  # browser origins besides Vigil's own that may open a websocket
    bus_secret: str = ""  # signs event-bus messages (docs/security.md); see bus_key()
    bus_queue_size: int = 10_000
    self_monitor_seconds: float = 10.0  # 0 turns self-monitoring off
    access_log_writes: bool = False  # an access-log line for every accepted collector write
    alert_tick_seconds: float = 10.0  # how often time-based alert rules advance
    alert_lease_seconds: float = 15.0  # with a redis:// bus: shard lease; renewed every third
    web_dir: str = ""  # the dashboard viewer's files; empty: the repository's web/
    instance: str = ""  # this process's unique name among instances; empty: hostname:port
    # Notifications (docs/notifications.md)
    notify_tick_seconds: float = 1.0  # how often groups, escalations and retries advance
    notify_timeout_seconds: float = 10.0  # one webhook or SMTP attempt
    notify_max_attempts: int = 8  # then a delivery is dead
    notify_retry_base_seconds: float = 10.0  # first retry after ~this, doubling each time
    notify_retry_max_seconds: float = 3_600.0
    notify_allow_loopback: bool = False  # development only: lets tests use local receivers
    notify_secret_overlap_seconds: float = 86_400.0  # a rotated webhook key still signs
    # Users' notification templates render in worker processes within these budgets.
    notify_template_timeout_seconds: float = 2.0
    notify_template_max_iterations: int = 100_000  # loop iterations and calls per render
    notify_template_max_output: int = 100_000  # characters
    notify_template_max_nesting: int = 6  # blocks inside each other
    notify_template_memory_mb: int = 256  # per worker, above what it holds at start
    notify_template_workers: int = 1
    # Admission: in-flight ingest and rate limits (docs/security.md, "Limits")
    ingest_max_inflight_bytes: int = 32 * 1024 * 1024  # bodies being read, decoded, stored
    ingest_max_inflight_requests: int = 64  # POSTs to /graphql and the collector endpoints
    ingest_max_pending_points: int = 1_000_000  # points waiting for their commit; then 503
    ingest_commit_slots: int = 4  # batches committing at once; waiting projects round robin
    rate_caller_operations_per_second: float = 1_000.0  # per token subject; 0: no limit
    rate_caller_operations_burst: int = 10_000
    rate_caller_points_per_second: float = 250_000.0
    rate_caller_points_burst: int = 2_500_000
    rate_project_operations_per_second: float = 1_000.0  # commands (mutations, collector writes)
    rate_project_operations_burst: int = 10_000
    rate_project_points_per_second: float = 250_000.0
    rate_project_points_burst: int = 2_500_000
    # Collectors (docs/collectors.md)
    max_columnar_points: int = 100_000  # a columnar batch or one collector request
    collector_max_decoded_bytes: int = 64 * 1024 * 1024  # a body once decompressed; then 413
    otlp_resource_tags: str = "service.name,service.namespace,host.name"
    statsd_addr: str = ""  # host:port to listen on for StatsD over UDP; empty: off
    statsd_project: str = ""  # the project StatsD points go to (required with statsd_addr)
    statsd_flush_seconds: float = 10.0
    # Analytics (docs/analytics.md)
    analytics_workers: int = 0  # worker processes for fits; 0: one per CPU core
    analytics_worker_nice: int = 10  # their CPU priority below the server's (0 to 19)
    analytics_worker_idle: bool = True  # Linux: run only on CPU the server leaves idle
    analytics_workers_lazy: bool = False  # start the worker processes at the first fit
    analytics_max_jobs: int = 2  # jobs running at once in this process
    analytics_max_jobs_per_project: int = 2  # jobs running at once in a project, all instances
    analytics_lease_seconds: float = 15.0  # a dead instance's jobs restart after this
    analytics_poll_seconds: float = 1.0  # how often the store is looked at for new jobs
    analytics_sync_max_points: int = 100_000  # series x buckets of the `analytics` query
    analytics_sync_timeout_seconds: float = 2.0  # then the query is refused: use a job
    analytics_job_max_points: int = 20_000_000  # series x buckets a job may read
    analytics_job_timeout_seconds: float = 600.0  # a job's default timeout
    analytics_result_days: float = 7.0  # a finished job and its result are kept this long
    # Compliance and security (docs/compliance.md, docs/security.md)
    tls_cert_file: str = ""  # with tls_key_file: `vigil serve` speaks HTTPS and WSS
    tls_key_file: str = ""
    encryption_keys: str = ""  # "<version>:<base64 key>", several by commas; empty: key file
    encryption_key_file: str = ""  # empty: encryption.keys beside the secret file
    audit_key_file: str = ""  # Ed25519 checkpoint key; empty: audit-signing.key beside it
    audit_trusted_keys: str = ""  # base64 public keys of retired checkpoint keys, by commas
    audit_checkpoint_seconds: float = 3_600.0  # sign each moved chain head this often
    compliance_check_seconds: float = 86_400.0  # scheduled checks, per project; 0: off
    compliance_notify: bool = False  # failing checks route to notifications like alerts
    access_flush_seconds: float = 10.0  # access seen, merged into the store this often
    revocation_refresh_seconds: float = 5.0  # revocations reloaded (the bus brings them sooner)
    health_watch_seconds: float = 10.0  # systemHealthChanged: components checked this often
    health_disk_warn_percent: float = 10.0  # free space under which `disk` is degraded
    health_disk_down_percent: float = 2.0  # ... and down
    store_checkpoint_bytes: int = 16 * 2**20  # DuckDB's log is checkpointed past this size
    # DuckDB's memory_limit (its block cache and query memory; sorts spill to disk past it);
    # 0: DuckDB's own default, 80% of the machine's RAM (decision 0029)
    store_memory_limit_mb: int = 512
    store_recover_seconds: float = 60.0  # an invalidated store not reopened by then: /healthz 503
    store_compaction_seconds: float = 60.0  # DuckDB: closed partitions compacted this often; 0: off
    store_compaction_partition_seconds: int = 3_600  # DuckDB: the time partition compacted at once
    store_block_bytes: int = 262_144  # DuckDB: block size of a new file (an existing one keeps its)
    # Rollup tiers (docs/decisions/0028-rollup-tiers.md): a pass this often (0: no runner)
    # rolls every tier up to `now - lag`; points later than the lag recompute their buckets.
    rollup_seconds: float = 10.0
    rollup_lag_seconds: float = 120.0
    # Cost (docs/usage-and-cost.md): vigil.cost.* written per bucket of this (0: never),
    # once the bucket has been closed for the lag
    cost_step_seconds: float = 3_600.0
    cost_lag_seconds: float = 120.0
    security_log_per_source: int = 20  # refusals a minute written per client, then counted
    security_log_overall: int = 200  # refusals a minute written in all
    review_every_days: int = 90  # an access review is due this often
    stale_access_days: int = 90  # an admin or editor idle this long is flagged
    max_token_days: int = 90  # tokens valid longer are flagged
    alert_ack_target_seconds: int = 3_600  # fired alerts answered within this
    clock_tolerance_seconds: float = 30.0  # collectors' clocks may be off by this much

    # Anomaly detection (docs/anomaly-detection.md)
    anomaly_timezone: str = "UTC"  # explanations tell weekdays and times of day in it

    # Reports (docs/reports.md)
    report_link_seconds: int = 86_400  # a signed download link is honoured this long
    report_sweep_seconds: float = 3_600.0  # old runs lose their files this often; 0: never
    # Report schedules (docs/reports-schedules.md)
    report_schedule_seconds: float = 15.0  # how often due slots are looked for; 0: never
    report_attach_max_bytes: int = 10 * 1024 * 1024  # email attachments in all; above: a link
    public_url: str = ""  # how users reach Vigil (https://vigil.example.com), for sent links
    # Usage analytics (docs/usage-and-cost.md): each instance stores its counts this often
    # (0: no usage runner); the counted minutes are kept `usage_keep_days`.
    usage_seconds: float = 60.0
    usage_keep_days: int = 31

    def __post_init__(self) -> None:
        # Defaults that depend on the data folder, resolved once (a relative VIGIL_DATA_DIR
        # against the working directory of the start).
        data = Path(self.data_dir).expanduser().resolve() if self.data_dir else default_data_dir()
        object.__setattr__(self, "data_dir", str(data))
        if not self.store_url:
            object.__setattr__(self, "store_url", f"duckdb:///{data / 'vigil.duckdb'}")
        if not self.secret_file:
            object.__setattr__(self, "secret_file", str(data / "secret.key"))

    @property
    def production(self) -> bool:
        return self.mode is Mode.PRODUCTION

    @property
    def anomaly_zone(self) -> tzinfo:
        return ZoneInfo(self.anomaly_timezone)

    @property
    def instance_name(self) -> str:
        """Stable across restarts, so a restarted instance takes its alert shards back at once."""
        return self.instance or f"{socket.gethostname()}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"VIGIL_{f.name.upper()}")
            if raw is None:
                continue
            convert: Any = type(f.default)  # int, float, str or one of the StrEnums
            if convert is bool:
                convert = boolean
            try:
                values[f.name] = convert(raw)
            except ValueError:
                raise ConfigError(
                    f"VIGIL_{f.name.upper()}={raw!r} is not a valid {convert.__name__}"
                ) from None
        # The collector-only name of the pending-points bound, before it covered createMetrics.
        old = env.get("VIGIL_COLLECTOR_MAX_PENDING_POINTS")
        if old is not None and "ingest_max_pending_points" not in values:
            try:
                values["ingest_max_pending_points"] = int(old)
            except ValueError:
                raise ConfigError(
                    f"VIGIL_COLLECTOR_MAX_PENDING_POINTS={old!r} is not a valid int"
                ) from None
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse a setting that cannot work, naming the variable (infra/config/checks.py)."""
        check_settings(self)

    def beside_secret(self, configured: str, name: str) -> str:
        """`configured`, or the file `name` in the folder of the token secret file."""
        return configured or os.path.join(os.path.dirname(self.secret_file) or ".", name)


def boolean(raw: str) -> bool:
    """true/false, 1/0, yes/no, on/off (any case)."""
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(raw)
