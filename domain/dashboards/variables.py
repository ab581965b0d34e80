"""Dashboard variables: the values a viewer chose, and queries with those values bound."""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.dashboards.spec import ALL, REFERENCE, DashboardSpec
from domain.dashboards.widgets import SeriesQuery
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher

__all__ = ["bind", "resolve_values"]

MAX_VALUE = 1_000
_REGEX_OPS = (MatchOp.REGEX, MatchOp.NOT_REGEX)


def resolve_values(spec: DashboardSpec, given: Mapping[str, str]) -> dict[str, str]:
    """Every variable's value: the one given, else its default; unknown names are refused."""
    declared = [v.name for v in spec.variables]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(f"${n}" for n in declared) or "none"
        raise BadUserInput(
            f"unknown variable(s) {', '.join('$' + n for n in unknown)}: "
            f"the dashboard's variables are {known}"
        )
    for name, value in given.items():
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise BadUserInput(f"${name} must be text of at most {MAX_VALUE} characters")
    return {v.name: given.get(v.name, v.default) for v in spec.variables}


def bind(query: SeriesQuery, values: Mapping[str, str]) -> tuple[TagMatcher, ...]:
    """The query's matchers with `$name` replaced by the variables' values.

    A matcher that is only a reference to a variable at ALL is dropped (every value
    matches); inside a regex, a value is matched literally and ALL becomes `.*`.
    """
    bound: list[TagMatcher] = []
    for matcher in query.matchers:
        whole = REFERENCE.fullmatch(matcher.value)
        if whole is not None and values.get(whole[1] or whole[2]) == ALL:
            continue
        if REFERENCE.search(matcher.value) is None:
            bound.append(matcher)
            continue
        regex = matcher.op in _REGEX_OPS

        def value_of(found: re.Match[str], regex: bool = regex) -> str:
            value = values.get(found[1] or found[2], ALL)
            if not regex:
                return value
            return ".*" if value == ALL else re.escape(value)

        bound.append(TagMatcher(matcher.key, matcher.op, REFERENCE.sub(value_of, matcher.value)))
    return tuple(bound)
