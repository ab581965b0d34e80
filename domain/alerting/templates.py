"""Alert templates: rules with parameters, and the built-in set for Vigil's own metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.alerting.model import MINUTE_US, Condition, RuleAggregation
from domain.alerting.rule import AlertRule
from domain.errors import BadUserInput, NotFound
from domain.matchers import MatchOp, TagMatcher

__all__ = ["BUILTIN_TEMPLATES", "AlertTemplate", "TemplateParameter", "builtin_template"]

Params = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class TemplateParameter:
    name: str
    description: str
    default: float
    minimum: float
    maximum: float
    integer: bool = False

    def check(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadUserInput(f"parameter {self.name!r} must be a number")
        number = float(value)
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            raise BadUserInput(
                f"parameter {self.name!r} must be between {self.minimum:g} and "
                f"{self.maximum:g}, not {value!r}"
            )
        if self.integer and not number.is_integer():
            raise BadUserInput(f"parameter {self.name!r} must be a whole number")
        return number


@dataclass(frozen=True, slots=True)
class AlertTemplate:
    """A reusable rule: `build` fills the parameters (defaults for those not given)."""

    name: str
    description: str
    parameters: tuple[TemplateParameter, ...]
    factory: Callable[[Params], AlertRule]

    def values(self, params: Mapping[str, object] | None = None) -> dict[str, float]:
        given = dict(params or {})
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise BadUserInput(
                f"unknown parameter(s) for template {self.name!r}: {', '.join(unknown)}; "
                f"it takes {', '.join(known)}"
            )
        return {
            name: p.check(given[name]) if name in given else p.default for name, p in known.items()
        }

    def build(self, params: Mapping[str, object] | None = None) -> AlertRule:
        return self.factory(self.values(params))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [
                {
                    "name": p.name,
                    "description": p.description,
                    "default": p.default,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "integer": p.integer,
                }
                for p in self.parameters
            ],
        }


def builtin_template(name: str) -> AlertTemplate:
    for template in BUILTIN_TEMPLATES:
        if template.name == name:
            return template
    raise NotFound(f"no alert template named {name!r}")


# -- the built-in set, over the metrics of the `system` project (infra/selfmon.py) -------

_DAY_MINUTES = 1440.0


def _minutes(
    name: str, description: str, default: float, minimum: float = 0.0
) -> TemplateParameter:
    return TemplateParameter(name, description, default, minimum, _DAY_MINUTES)


_FOR = _minutes("for_minutes", "how long the condition must hold before firing", 5)
_WINDOW = _minutes("window_minutes", "the window the value is aggregated over", 5, minimum=1)


def _rule(
    name: str, metric: str, p: Params, threshold: float, aggregation: RuleAggregation, **kw: Any
) -> AlertRule:
    return AlertRule(
        name=name,
        metric=metric,
        threshold=threshold,
        condition=Condition.GT,
        aggregation=aggregation,
        window_us=round(p["window_minutes"] * MINUTE_US),
        for_us=round(p["for_minutes"] * MINUTE_US),
        group_by=("instance",),
        **kw,
    )


def _cpu(p: Params) -> AlertRule:
    return _rule(
        f"Vigil CPU above {p['percent']:g}% for {p['for_minutes']:g} min",
        "vigil.process.cpu_percent",
        p,
        p["percent"],
        RuleAggregation.AVG,
    )


def _memory(p: Params) -> AlertRule:
    return _rule(
        f"Vigil memory above {p['megabytes']:g} MB",
        "vigil.process.memory_rss_bytes",
        p,
        p["megabytes"] * 1024 * 1024,
        RuleAggregation.AVG,
    )


def _latency(p: Params) -> AlertRule:
    return _rule(
        f"Vigil API p99 latency above {p['milliseconds']:g} ms",
        "vigil.api.latency_ms",
        p,
        p["milliseconds"],
        RuleAggregation.AVG,
        matchers=(TagMatcher("stat", MatchOp.EQ, "p99"),),
    )


def _errors(p: Params) -> AlertRule:
    return _rule(
        f"Vigil API errors above {p['per_second']:g}/s",
        "vigil.api.errors_total",
        p,
        p["per_second"],
        RuleAggregation.RATE,
    )


def _connections(p: Params) -> AlertRule:
    return _rule(
        f"Vigil websocket connections above {p['connections']:g}",
        "vigil.ws.connections",
        p,
        p["connections"],
        RuleAggregation.MAX,
    )


BUILTIN_TEMPLATES: tuple[AlertTemplate, ...] = (
    AlertTemplate(
        "vigil-cpu",
        "Vigil's CPU use above a percentage (100 = one core) for a while, on every instance",
        (
            TemplateParameter("percent", "CPU percent (100 = one core)", 90, 1, 10_000),
            _FOR,
            _WINDOW,
        ),
        _cpu,
    ),
    AlertTemplate(
        "vigil-memory",
        "Vigil's resident memory above a size, on every instance",
        (TemplateParameter("megabytes", "resident memory, MB", 1024, 16, 1 << 20), _FOR, _WINDOW),
        _memory,
    ),
    AlertTemplate(
        "vigil-api-latency",
        "The API's p99 latency above a number of milliseconds, on every instance",
        (TemplateParameter("milliseconds", "p99 latency, ms", 500, 1, 600_000), _FOR, _WINDOW),
        _latency,
    ),
    AlertTemplate(
        "vigil-api-errors",
        "API and GraphQL errors per second (every code together) above a rate",
        (
            TemplateParameter("per_second", "errors per second", 1, 0, 1_000_000),
            _minutes("for_minutes", "how long the condition must hold before firing", 0),
            _WINDOW,
        ),
        _errors,
    ),
    AlertTemplate(
        "vigil-ws-connections",
        "Open websocket connections above a count, on every instance",
        (
            TemplateParameter("connections", "open connections", 1000, 1, 10_000_000, True),
            _minutes("for_minutes", "how long the condition must hold before firing", 0),
            _WINDOW,
        ),
        _connections,
    ),
)
