"""Jinja2's SandboxedEnvironment with budgets the engine enforces as the template runs.

The sandbox stops a template from reaching Python's internals, not from running long:
`{% for a in range(10000) %}{% for b in range(3000) %}{% endfor %}{% endfor %}` is 30
million iterations. Here every `for` loop's iterable is wrapped (in the parsed tree, so
no template text can avoid it) by a counter, as is every call a template makes (macros,
`loop()` of recursive loops, methods); past `max_iterations` the render stops. `*` and
`**` are checked before they build a huge string, list or number; blocks may nest at most
`max_nesting` deep; the output is cut, or refused, past `max_output` characters. The
time and memory budgets are the worker process's (pool.py): this module counts work,
the process bounds what counting cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["BudgetedEnvironment", "RenderRefused", "TemplateBudget", "render_within"]

_COUNTED = "vigil_counted"  # the filter the parsed tree wraps each loop's iterable in
_BLOCKS = (nodes.For, nodes.If, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.With)
MAX_EXPONENT = 4_096


@dataclass(frozen=True, slots=True)
class TemplateBudget:
    """What one render may use (VIGIL_NOTIFY_TEMPLATE_*)."""

    timeout_seconds: float = 2.0
    max_iterations: int = 100_000  # loop iterations and calls, together
    max_output: int = 100_000  # characters
    max_nesting: int = 6  # blocks (for, if, macro, call, filter, with) inside each other
    memory_mb: int = 256  # address space a worker may add to what it holds at start


class RenderRefused(ValueError):
    """The template exceeded a budget or failed: the message says which, for its author."""


class _Meter:
    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def tick(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise RenderRefused(
                f"the template exceeds its budget of {self.limit} loop iterations and calls"
            )


_METER: ContextVar[_Meter] = ContextVar("template_meter")


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    meter = _METER.get()
    for item in iterable:
        meter.left -= 1  # meter.tick(), inlined: this runs once per loop iteration
        if meter.left < 0:
            meter.tick()  # raises
        yield item


def _nesting(node: nodes.Node, depth: int = 0) -> int:
    here = depth + isinstance(node, _BLOCKS)
    return max((_nesting(child, here) for child in node.iter_child_nodes()), default=here)


class BudgetedEnvironment(SandboxedEnvironment):
    """Undefined names, and their attributes, render empty (a label an alert lacks); text
    is not HTML-escaped (titles and bodies are plain text)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, budget: TemplateBudget) -> None:
        super().__init__(autoescape=False, undefined=ChainableUndefined)
        self.budget = budget
        self.filters[_COUNTED] = _counted
        self._compiled = lru_cache(maxsize=256)(self.from_string)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError:
            raise TemplateSyntaxError("expressions nest too deeply", 1, name, filename) from None
        depth = _nesting(tree)
        if depth > self.budget.max_nesting:
            raise TemplateSyntaxError(
                f"blocks nest {depth} deep, more than the {self.budget.max_nesting} allowed",
                1,
                name,
                filename,
            )
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _COUNTED, [], [], None, None, lineno=loop.lineno)
        return tree

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _METER.get().tick()
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise SecurityError(f"an exponent may be at most {MAX_EXPONENT}")
        if operator == "*" and _repeats(left, right) > self.budget.max_output:
            raise SecurityError(f"`*` would build more than {self.budget.max_output} items")
        return super().call_binop(context, operator, left, right)

    def compiled(self, source: str) -> Template:
        return self._compiled(source)


def _huge_power(base: Any, exponent: Any) -> bool:
    small_base = isinstance(base, int | float) and abs(base) <= 1
    return isinstance(exponent, int) and abs(exponent) > MAX_EXPONENT and not small_base


def _repeats(left: Any, right: Any) -> int:
    """How many items `left * right` builds when it repeats a string or a list; else 0."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int):
            return len(sequence) * times
    return 0


def render_within(
    env: BudgetedEnvironment, source: str, context: Mapping[str, Any], *, trial: bool = False
) -> str:
    """Render within the iteration and output budgets. Output past the budget is cut, or
    with `trial` (the test render at save) refused; any failure is a RenderRefused."""
    limit = env.budget.max_output
    token = _METER.set(_Meter(env.budget.max_iterations))
    try:
        parts: list[str] = []
        size = 0
        for part in env.compiled(source).generate(**context):
            parts.append(part)
            size += len(part)
            if size > limit:
                if trial:
                    raise RenderRefused(f"the template writes more than {limit} characters")
                break
        return "".join(parts)[:limit]
    except RenderRefused:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise RenderRefused(f"{type(exc).__name__}: {exc}") from None
    except (RecursionError, MemoryError) as exc:
        raise RenderRefused(f"the template ran out of {_resource(exc)}") from None
    finally:
        _METER.reset(token)


def _resource(exc: BaseException) -> str:
    return "memory" if isinstance(exc, MemoryError) else "stack (too deep a recursion)"
