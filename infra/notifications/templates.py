"""Message templates on Jinja2's SandboxedEnvironment: templates written by users can read
the alert's fields and labels, and nothing of Python beyond them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["JinjaRenderer"]

MAX_OUTPUT = 200_000


class JinjaRenderer:
    """The MessageRenderer port. Undefined names render empty (a label an alert lacks),
    text is not HTML-escaped (titles and bodies are plain text)."""

    def __init__(self) -> None:
        self._env = SandboxedEnvironment(autoescape=False, undefined=Undefined)
        self._strict = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
        self._compile = lru_cache(maxsize=256)(self._env.from_string)

    def check(self, template: str) -> str | None:
        try:
            self._strict.parse(template)
        except TemplateError as exc:
            return str(exc.message or type(exc).__name__)
        return None

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        try:
            text = self._compile(template).render(**context)
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise ValueError(f"{type(exc).__name__}: {exc}") from None
        return text[:MAX_OUTPUT]
