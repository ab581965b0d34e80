"""Tag matchers (Prometheus semantics) and the small value objects of the metric model."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher, matches_all
from domain.metrics.model import Aggregation, SeriesKey

TAGS = {"host": "web-1", "region": "eu-west", "env": ""}


@pytest.mark.parametrize(
    ("key", "op", "value", "expected"),
    [
        ("host", MatchOp.EQ, "web-1", True),
        ("host", MatchOp.EQ, "web", False),
        ("host", MatchOp.EQ, "WEB-1", False),
        ("host", MatchOp.NEQ, "web-1", False),
        ("host", MatchOp.NEQ, "web-2", True),
        # =~ must match the whole value, like Prometheus: not re.search, not re.match
        ("host", MatchOp.REGEX, "web-.*", True),
        ("host", MatchOp.REGEX, "web", False),
        ("host", MatchOp.REGEX, "eb-1", False),
        ("host", MatchOp.REGEX, "web-1|db-1", True),
        ("host", MatchOp.REGEX, "db-1|web-1", True),
        ("region", MatchOp.REGEX, "eu", False),
        ("region", MatchOp.REGEX, "eu-.+", True),
        ("host", MatchOp.NOT_REGEX, "web-.*", False),
        ("host", MatchOp.NOT_REGEX, "web", True),
        ("host", MatchOp.NOT_REGEX, "db-.*", True),
    ],
)
def test_matcher_against_a_present_tag(key: str, op: MatchOp, value: str, expected: bool) -> None:
    assert TagMatcher(key, op, value).matches(TAGS) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (MatchOp.EQ, "", True),
        (MatchOp.EQ, "prod", False),
        (MatchOp.NEQ, "prod", True),
        (MatchOp.NEQ, "", False),
        (MatchOp.REGEX, ".*", True),
        (MatchOp.REGEX, ".+", False),
        (MatchOp.REGEX, "prod|", True),
        (MatchOp.NOT_REGEX, ".+", True),
        (MatchOp.NOT_REGEX, ".*", False),
    ],
)
def test_a_missing_tag_is_treated_as_empty_text(op: MatchOp, value: str, expected: bool) -> None:
    missing = TagMatcher("team", op, value)
    empty = TagMatcher("env", op, value)

    assert missing.matches(TAGS) is expected
    assert empty.matches(TAGS) is expected  # present but empty behaves the same


@pytest.mark.parametrize("op", [MatchOp.REGEX, MatchOp.NOT_REGEX])
@pytest.mark.parametrize("pattern", ["(", "[a-", "*x", "a{2,1}"])
def test_an_invalid_regex_is_bad_user_input(op: MatchOp, pattern: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        TagMatcher("host", op, pattern)
    assert caught.value.code == "BAD_USER_INPUT"
    assert "invalid regex for tag 'host'" in caught.value.message


@pytest.mark.parametrize("op", [MatchOp.EQ, MatchOp.NEQ])
def test_an_equality_matcher_takes_regex_characters_literally(op: MatchOp) -> None:
    matcher = TagMatcher("host", op, "(")
    assert matcher.matches({"host": "("}) is (op is MatchOp.EQ)


def test_matches_all_is_a_conjunction_and_empty_matches_everything() -> None:
    eu = TagMatcher("region", MatchOp.REGEX, "eu-.*")
    web = TagMatcher("host", MatchOp.EQ, "web-1")
    db = TagMatcher("host", MatchOp.EQ, "db-1")

    assert matches_all((), TAGS)
    assert matches_all((), {})
    assert matches_all((eu, web), TAGS)
    assert not matches_all((eu, db), TAGS)
    assert not matches_all((db, eu), TAGS)


@pytest.mark.parametrize(
    ("aggregation", "quantile"),
    [
        (Aggregation.P50, 0.5),
        (Aggregation.P90, 0.9),
        (Aggregation.P95, 0.95),
        (Aggregation.P99, 0.99),
        (Aggregation.AVG, None),
        (Aggregation.MIN, None),
        (Aggregation.MAX, None),
        (Aggregation.SUM, None),
        (Aggregation.COUNT, None),
        (Aggregation.LAST, None),
    ],
)
def test_aggregation_quantile(aggregation: Aggregation, quantile: float | None) -> None:
    assert aggregation.quantile == quantile


def test_series_key_ignores_tag_order() -> None:
    a = SeriesKey.of("cpu", {"host": "a", "region": "eu"})
    b = SeriesKey.of("cpu", {"region": "eu", "host": "a"})

    assert a == b
    assert hash(a) == hash(b)
    assert a.tags == (("host", "a"), ("region", "eu"))
    assert SeriesKey.of("cpu", {"host": "b", "region": "eu"}) != a
    assert SeriesKey.of("mem", {"host": "a", "region": "eu"}) != a
