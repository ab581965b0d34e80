"""The operation type of a document, for the transports that route on it (parsing and
validating for execution is schema/prepared.py's)."""

from __future__ import annotations

from functools import lru_cache

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast, parse

__all__ = ["operation_type"]


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
