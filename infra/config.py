"""Typed settings read once from `VIGIL_*` environment variables."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["AuthMode", "ConfigError", "Mode", "Settings"]


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable and what to do."""


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class AuthMode(StrEnum):
    LOCAL = "local"  # HS256 tokens issued by `vigil token`
    JWKS = "jwks"  # RS256/ES256 tokens of an external identity provider


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting with its default; `VIGIL_<NAME>` in upper case overrides each."""

    mode: Mode = Mode.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = 8000
    store_url: str = "duckdb:///var/vigil.duckdb"
    bus_url: str = "memory://"
    auth_mode: AuthMode = AuthMode.LOCAL
    secret: str = ""  # HS256 secret; empty: read or create `secret_file`
    secret_file: str = "./var/secret.key"
    jwks_url: str = ""
    jwt_issuer: str = "vigil"
    jwt_audience: str = "vigil"
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 10_000
    retention_days: int = 30
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5_000
    ws_max_subscriptions: int = 100
    ws_max_message_bytes: int = 64 * 1024
    ws_queue_messages: int = 1_000
    ws_init_timeout_seconds: float = 5.0
    bus_queue_size: int = 10_000
    self_monitor_seconds: float = 10.0  # 0 turns self-monitoring off
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
    # Anomaly detection (docs/anomaly-detection.md)
    anomaly_timezone: str = "UTC"  # explanations tell weekdays and times of day in it

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
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
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
        notify = ("tick_seconds", "timeout_seconds", "max_attempts", "retry_base_seconds")
        for name in (f"notify_{n}" for n in notify):
            if getattr(self, name) <= 0:
                raise ConfigError(f"VIGIL_{name.upper()} must be positive")
        positive = (
            "port",
            "max_body_bytes",
            "max_batch",
            "retention_days",
            "alert_tick_seconds",
            "alert_lease_seconds",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"VIGIL_{name.upper()} must be positive")


def boolean(raw: str) -> bool:
    """true/false, 1/0, yes/no, on/off (any case)."""
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(raw)
