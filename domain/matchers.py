"""Tag matchers: the Prometheus-style label selectors every feature filters series by."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from domain.errors import BadUserInput

__all__ = ["MatchOp", "TagMatcher", "Tags", "matches_all"]

Tags = Mapping[str, str]


class MatchOp(StrEnum):
    EQ = "="
    NEQ = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class TagMatcher:
    """A Prometheus-style label matcher; a regex must match the whole value."""

    key: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if not self.value.isascii():  # stored tag values are NFC (metrics/ingest/series.py)
            object.__setattr__(self, "value", unicodedata.normalize("NFC", self.value))
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise BadUserInput(f"invalid regex for tag {self.key!r}: {exc}") from None

    def matches(self, tags: Tags) -> bool:
        actual = tags.get(self.key, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NEQ:
            return actual != self.value
        hit = _compiled(self.value).fullmatch(actual) is not None
        return hit if self.op is MatchOp.REGEX else not hit


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches_all(matchers: tuple[TagMatcher, ...], tags: Tags) -> bool:
    return all(m.matches(tags) for m in matchers)
