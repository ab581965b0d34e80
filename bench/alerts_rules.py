"""The alert benchmark's rule sets, as createAlert request bodies (bench/alerts.py)."""

from __future__ import annotations

from typing import Any

import orjson

from bench.alerts_probe import NAME
from bench.common import PROJECT

__all__ = ["ALIASES", "mixed_rules", "rule_bodies"]

ALIASES = 25  # createAlert fields per request

MIXED_AGGREGATIONS = ("AVG", "MAX", "P95", "COUNT", "SUM", "RATE")
MIXED_WINDOWS = ("10s", "1m", "5m")


def mixed_rules() -> list[dict[str, Any]]:
    """990 rules: 10 per regex group of 10 series, mixed aggregations and windows."""
    rules = []
    for k in range(1, 100):
        for j in range(10):
            rules.append(
                {
                    "name": f"group {k} rule {j}",
                    "metric": NAME,
                    "matchers": [{"key": "series", "op": "REGEX", "value": f"s{k}[0-9]"}],
                    "groupBy": ["series"],
                    "aggregation": MIXED_AGGREGATIONS[j % len(MIXED_AGGREGATIONS)],
                    "window": MIXED_WINDOWS[j % len(MIXED_WINDOWS)],
                    "condition": "GT",
                    "threshold": 1e12,
                }
            )
    return rules


def rule_bodies(rules: list[dict[str, Any]]) -> list[bytes]:
    """createAlert requests, ALIASES rules each."""
    bodies = []
    for first in range(0, len(rules), ALIASES):
        chunk = rules[first : first + ALIASES]
        defs = ", ".join(f"$r{i}: AlertRuleInput!" for i in range(len(chunk)))
        fields = " ".join(
            f"a{i}: createAlert(project: $p, rule: $r{i}) {{ id }}" for i in range(len(chunk))
        )
        variables: dict[str, Any] = {"p": PROJECT, **{f"r{i}": r for i, r in enumerate(chunk)}}
        query = f"mutation Create($p: String!, {defs}) {{ {fields} }}"
        bodies.append(orjson.dumps({"query": query, "variables": variables}))
    return bodies
