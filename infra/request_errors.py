"""GraphQL-shaped answers for requests refused before any operation runs (a body that is not
JSON, another content type, a query in a GET, a subscription over HTTP), each with a code
and the fix, where Strawberry answers plain text."""

from __future__ import annotations

import orjson
from starlette.responses import Response

__all__ = ["SUBSCRIPTION_OVER_HTTP", "request_error"]

SUBSCRIPTION_OVER_HTTP = (
    "subscriptions need a websocket (graphql-transport-ws) at /graphql; over HTTP send "
    "queries and mutations"
)
_POST_JSON = (
    'send a POST with Content-Type: application/json and a body like {"query": "...", '
    '"variables": {...}}'
)
# Strawberry's reason -> what the caller should read instead.
_FIXES = {
    "Unable to parse request body as JSON": f"the request body is not valid JSON: {_POST_JSON}",
    "queries are not allowed when using GET": (
        f"queries are not served over GET (a browser's GET /graphql opens GraphiQL): {_POST_JSON}"
    ),
    "mutations are not allowed when using GET": f"mutations need a POST: {_POST_JSON}",
    "No GraphQL query found in the request": f"the request has no query: {_POST_JSON}",
    "Not Found": f"no page is served here in production mode: {_POST_JSON}",
}


def request_error(status: int, reason: str, *, content_type: str = "") -> Response:
    """The answer to a request Strawberry refused with `status` and `reason`."""
    if reason == "Unsupported content type":
        given = content_type.split(";")[0].strip() or "none"
        message = f"unsupported Content-Type ({given}): {_POST_JSON}"
    else:
        message = _FIXES.get(reason, reason)
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
