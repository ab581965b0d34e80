"""One extension for what happens to a document before it runs: parsed once (within the
token limit), validated once (with Vigil's rules), then costed for this request's variables.

It does the work of five Strawberry extensions (ParserCache, MaxTokensLimiter,
AddValidationRules, ValidationCache and the query budget), with one cache keyed by the
query text: Strawberry opens a context manager per extension for each of an operation's
phases, which cost ~60 us per request with five of them (docs/performance.md, "Per-request
cost"). Nothing is skipped: a new document is parsed and validated in full; a syntax error
is answered as before (strawberry#1439, see `on_parse`); the budget is estimated on every
request, since it depends on the variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document

from schema.budget import HeavyReads, QueryBudget

__all__ = ["DocumentCache", "PreparedDocuments"]

Rules = tuple[type[ASTValidationRule], ...]


class DocumentCache:
    """Per schema: a query text's document, and its validation errors under given rules."""

    def __init__(
        self,
        *,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]],
        maxsize: int = 512,
    ) -> None:
        self.max_tokens = max_tokens
        self.rules: Rules = tuple(rules)
        # Bounded: distinct query texts are the client's to choose. Syntax errors raise and
        # are not kept (each is parsed again, as without a cache).
        self.parse = lru_cache(maxsize=maxsize)(self._parse)
        self.errors = lru_cache(maxsize=maxsize)(self._errors)

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _errors(self, schema: GraphQLSchema, query: str, rules: Rules) -> list[GraphQLError]:
        return validate_document(schema, self.parse(query), rules)


class PreparedDocuments(QueryBudget):
    """Strawberry parses and validates only what this left undone (a syntax error)."""

    def __init__(self, *, documents: DocumentCache, max_cost: int, heavy: HeavyReads) -> None:
        super().__init__(max_cost=max_cost, heavy=heavy)
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        # Strawberry's ParserCache parses inside the hook, outside the try that turns a
        # syntax error into an answer (strawberry#1439): on one, leave the document unset,
        # and Strawberry parses again (within the same token limit) where the error
        # becomes a pre-execution error like any validation error.
        context = self.execution_context
        context.parse_options["max_tokens"] = self.documents.max_tokens
        if context.query:
            try:
                context.graphql_document = self.documents.parse(context.query)
            except GraphQLError:
                context.graphql_document = None
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = context.validation_rules + self.documents.rules
        context.validation_rules = rules  # for a document this did not parse
        if context.pre_execution_errors is None and context.query:
            document = context.graphql_document
            if document is not None and document is self._cached(context.query):
                schema: Any = context.schema
                context.pre_execution_errors = self.documents.errors(
                    schema._schema, context.query, rules
                )
        yield from super().on_validate()

    def _cached(self, query: str) -> DocumentNode | None:
        try:
            return self.documents.parse(query)
        except GraphQLError:
            return None
