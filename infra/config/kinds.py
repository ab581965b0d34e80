"""The kinds of values settings take, and the error a bad one raises."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MAX_RETENTION_DAYS", "AuthMode", "ConfigError", "Mode"]

MAX_RETENTION_DAYS = 10_000  # the same bound as infra/stores/mongo/options.py


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable and what to do."""


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class AuthMode(StrEnum):
    LOCAL = "local"  # HS256 tokens issued by `vigil token`
    JWKS = "jwks"  # RS256/ES256 tokens of an external identity provider
