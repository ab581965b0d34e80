"""Errors at the edge: every GraphQL error leaves with a safe message and `extensions.code`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from graphql.error import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from domain.errors import VigilError

__all__ = ["RETRY_KEY", "ErrorCodes", "code_of"]

logger = logging.getLogger("vigil.errors")

INTERNAL_MESSAGE = "Internal error; it has been logged."
# Where a refusal that says when to retry (a rate limit, an overload) leaves its code and
# seconds in the context's `extra`, for the HTTP answer's status and Retry-After.
RETRY_KEY = "retry_after"
# graphql-core's validation messages end with names from the schema ("Did you mean
# 'metricSeries'?"): in production they would map the schema that introspection hides.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?$")

# Strawberry's refusals of a request before parsing: an empty query, an operationName the
# document lacks, an operation type the transport does not run. The caller's to fix.
_REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def code_of(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, VigilError):
        return original.code
    if isinstance(original, _REQUEST_ERRORS):
        return "BAD_USER_INPUT"
    if original is None or isinstance(original, GraphQLError):
        # syntax, validation and variable-coercion errors (an unknown enum value in a
        # variable arrives wrapped in a second GraphQLError)
        return (error.extensions or {}).get("code") or "BAD_USER_INPUT"
    return "INTERNAL"


class ErrorCodes(MaskErrors):
    """Adds `extensions.code` to every error and masks anything that is not ours."""

    def __init__(
        self, *, on_error: Callable[[str], None] | None = None, suggestions: bool = True
    ) -> None:
        super().__init__()
        self.on_error = on_error
        self.suggestions = suggestions

    def _process_result(self, result: object) -> None:
        # MaskErrors' own tests `isinstance(result, <a runtime-checkable protocol>)`, which
        # costs ~15 us on every answer, errors or not; this is the same test, by attribute.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        coded = [_with_code(error, self.suggestions) for error in errors]
        self._note_retry(coded)
        if self.on_error is not None:
            for error in coded:
                self.on_error((error.extensions or {}).get("code", "INTERNAL"))
        return coded

    def _note_retry(self, errors: list[GraphQLError]) -> None:
        waits = [
            (int((e.extensions or {})["retryAfter"]), str((e.extensions or {}).get("code")))
            for e in errors
            if isinstance((e.extensions or {}).get("retryAfter"), int)
        ]
        extra = getattr(getattr(self.execution_context, "context", None), "extra", None)
        if waits and isinstance(extra, dict):
            seconds, code = max(waits)
            extra[RETRY_KEY] = (code, seconds)


def _with_code(error: GraphQLError, suggestions: bool = True) -> GraphQLError:
    code = code_of(error)
    original = error.original_error
    extensions = dict(error.extensions or {})
    extensions["code"] = code
    message = error.message
    if not suggestions and not isinstance(original, VigilError):
        message = _SUGGESTION.sub("", message)
    if code == "INTERNAL":
        logger.error("internal error at %s", error.path, exc_info=original)
        message = INTERNAL_MESSAGE
        extensions = {"code": code}
    elif isinstance(original, VigilError):
        extensions.update(original.details)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
