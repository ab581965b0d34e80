"""The query budget, enforced before any resolver runs: an operation estimated above
`max_cost` is refused with its estimate, and a caller may run at most `max_heavy` reads of
stored points at once (schema/cost.py says which operations those are)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from schema.context import VigilContext
from schema.cost import Estimate, estimate

__all__ = ["HeavyReads", "QueryBudget"]


@dataclass(slots=True)
class HeavyReads:
    """Heavy reads running now, per caller, in this process."""

    max_per_caller: int
    running: Counter[str] = field(default_factory=Counter)

    def take(self, caller: str) -> bool:
        if self.running[caller] >= self.max_per_caller:
            return False
        self.running[caller] += 1
        return True

    def give_back(self, caller: str) -> None:
        self.running[caller] -= 1
        if self.running[caller] <= 0:
            del self.running[caller]


class QueryBudget(SchemaExtension):
    """Estimates only documents that validated: run it after validation (schema/prepared.py
    does both)."""

    def __init__(self, *, max_cost: int, heavy: HeavyReads) -> None:
        super().__init__()
        self.max_cost = max_cost
        self.heavy = heavy
        self.estimate: Estimate | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors or context.graphql_document is None:
            yield
            return
        found = estimate(
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
        )
        self.estimate = found
        if found is not None and found.cost > self.max_cost:
            context.pre_execution_errors = [
                GraphQLError(
                    f"this operation may cost {found.cost} (lists times their sizes, plus "
                    f"the points of series) and the budget is {self.max_cost}: ask for "
                    "smaller pages (first, limit), fewer nested lists or a shorter range",
                    extensions={
                        "code": "BAD_USER_INPUT",
                        "cost": found.cost,
                        "budget": self.max_cost,
                    },
                )
            ]
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        found = self.estimate
        heavy = (
            found is not None
            and found.reads_points
            and context.operation_type is OperationType.QUERY
        )
        caller = _caller(context.context) if heavy else ""
        if not heavy or context.result is not None:
            yield
            return
        if not self.heavy.take(caller):
            limit = self.heavy.max_per_caller
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"at most {limit} reads of stored points at once per caller: "
                        "wait for one to finish, then retry",
                        extensions={"code": "RATE_LIMITED", "limit": limit},
                    )
                ],
            )
            yield
            return
        try:
            yield
        finally:
            self.heavy.give_back(caller)


def _caller(context: object) -> str:
    """The token's subject, or the client's address for a caller without one."""
    if isinstance(context, VigilContext):
        if context.principal is not None:
            return f"subject:{context.principal.subject}"
        return f"client:{context.client}"
    return ""
