"""Notification templates: the MessageRenderer port on Jinja2's sandbox, with budgets.

Users' templates render in worker processes (pool.py) within a time, memory, iteration
and output budget (budget.py), so a runaway template costs a worker, never the event
loop; Vigil's own default templates render in-process within the same iteration and
output budgets (they loop over the alerts of one message, nothing a user controls).
docs/decisions/0024-notification-template-budgets.md says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import TemplateError

from infra.notifications.templates.budget import (
    BudgetedEnvironment,
    RenderRefused,
    TemplateBudget,
    render_within,
)
from infra.notifications.templates.pool import RenderPool

__all__ = ["JinjaRenderer", "RenderRefused", "TemplateBudget"]


class JinjaRenderer:
    """The MessageRenderer port. Undefined names render empty (a label an alert lacks),
    text is not HTML-escaped (titles and bodies are plain text)."""

    def __init__(
        self,
        budget: TemplateBudget | None = None,
        *,
        workers: int = 1,
        trusted: Iterable[str] = (),
    ) -> None:
        """`trusted`: Vigil's own templates, rendered in-process."""
        self.budget = budget or TemplateBudget()
        self._env = BudgetedEnvironment(self.budget)
        self._pool = RenderPool(self.budget, workers=workers)
        self._trusted = frozenset(trusted)

    def check(self, template: str) -> str | None:
        try:
            self._env.parse(template)
        except TemplateError as exc:
            return str(exc.message or type(exc).__name__)
        return None

    async def render(
        self, template: str, context: Mapping[str, Any], *, trial: bool = False
    ) -> str:
        if template in self._trusted:
            return render_within(self._env, template, context, trial=trial)
        return await self._pool.render(template, context, trial=trial)

    @property
    def rendering(self) -> int:
        """Renders of users' templates under way in the worker pool now (diagnostics)."""
        return self._pool.in_flight

    async def close(self) -> None:
        await self._pool.close()
