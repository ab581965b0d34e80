"""The error tree: every failure a user can see, each with its GraphQL `extensions.code`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BadUserInput",
    "Conflict",
    "DataCorrupted",
    "Forbidden",
    "NotFound",
    "PointError",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "VigilError",
]


class VigilError(Exception):
    """Root of every error Vigil reports to a client; `code` becomes `extensions.code`."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(VigilError):
    code = "UNAUTHENTICATED"


class Forbidden(VigilError):
    code = "FORBIDDEN"


class NotFound(VigilError):
    code = "NOT_FOUND"


class BadUserInput(VigilError):
    code = "BAD_USER_INPUT"


class Conflict(VigilError):
    """A change based on a version someone else changed since; nothing was written.

    `extensions.current_version` names the version to reload."""

    code = "CONFLICT"

    def __init__(self, what: str, current_version: int) -> None:
        super().__init__(
            f"{what} was changed by someone else (version {current_version}); reload and retry",
            current_version=current_version,
        )


class RateLimited(VigilError):
    code = "RATE_LIMITED"


class Unavailable(VigilError):
    code = "UNAVAILABLE"


class DataCorrupted(VigilError):
    """Stored data that fails its checksum: retrying does not help, restoring does."""

    code = "DATA_CORRUPTED"


@dataclass(frozen=True, slots=True)
class PointError:
    """Why the point at `index` of a batch was rejected."""

    index: int
    reason: str
