"""Parsing documents once: a parser cache that lets syntax errors be answered, and the
operation type of a document, for the transports that route on it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast, parse
from strawberry.extensions import ParserCache

__all__ = ["ReportingParserCache", "operation_type"]


class ReportingParserCache(ParserCache):
    """Strawberry's ParserCache parses inside the extension hook, outside the try that turns
    a syntax error into an answer (strawberry#1439): over a websocket the error escaped the
    stream and the operation was never answered, over HTTP it lost its `extensions.code`.
    On a syntax error this leaves the document unset, so Strawberry parses again where the
    error becomes a pre-execution error like any validation error."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


@lru_cache(maxsize=512)
def operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request runs; None when the document does not parse or
    names no such operation (the execution answers those with the precise error)."""
    try:
        document: DocumentNode = parse(query, max_tokens=10_000)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return None if operation is None else operation.operation
