"""Silences: label matchers that mute matching alerts between a start and an end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.errors import BadUserInput
from domain.matchers import TagMatcher
from domain.notifications.policy import matcher_text, parse_matcher

__all__ = ["MAX_SILENCE_US", "Silence", "SilenceState"]

MAX_SILENCE_US = 366 * 86_400_000_000
MAX_COMMENT = 2_000


class SilenceState(StrEnum):
    PENDING = "pending"  # starts later
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    project: str
    matchers: tuple[TagMatcher, ...]
    starts_us: int
    ends_us: int
    created_by: str = ""
    comment: str = ""
    created_us: int = 0

    def state(self, now_us: int) -> SilenceState:
        if now_us >= self.ends_us:
            return SilenceState.EXPIRED
        return SilenceState.ACTIVE if now_us >= self.starts_us else SilenceState.PENDING

    def mutes(self, labels: Mapping[str, str], now_us: int) -> bool:
        return self.state(now_us) is SilenceState.ACTIVE and all(
            m.matches(labels) for m in self.matchers
        )

    def expired(self, now_us: int) -> Silence:
        """Ended now; a silence that had not started yet ends before it starts."""
        return replace(self, ends_us=now_us, starts_us=min(self.starts_us, now_us))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "matchers": [matcher_text(m) for m in self.matchers],
            "starts_us": self.starts_us,
            "ends_us": self.ends_us,
            "created_by": self.created_by,
            "comment": self.comment,
            "created_us": self.created_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Silence:
        return cls(**{**data, "matchers": tuple(parse_matcher(m) for m in data["matchers"])})

    @classmethod
    def create(
        cls,
        *,
        id: str,
        project: str,
        matchers: Sequence[TagMatcher],
        starts_us: int,
        ends_us: int,
        now_us: int,
        created_by: str,
        comment: str,
    ) -> Silence:
        if not matchers or len(matchers) > 32:
            raise BadUserInput("a silence needs 1 to 32 matchers")
        if all(m.matches({}) for m in matchers):
            raise BadUserInput("a silence needs a matcher that an empty label does not match")
        if ends_us <= max(starts_us, now_us):
            raise BadUserInput("a silence must end after it starts, and in the future")
        if ends_us - starts_us > MAX_SILENCE_US:
            raise BadUserInput("a silence lasts at most 366 days")
        if len(comment) > MAX_COMMENT:
            raise BadUserInput(f"a comment holds at most {MAX_COMMENT} characters")
        return cls(
            id, project, tuple(matchers), starts_us, ends_us, created_by, comment, created_us=now_us
        )
