"""Vigil's pages for browsers, beside the API: `/`, GraphiQL, the dashboard list, the guides,
and the assets they load, all self-hosted under one Content-Security-Policy."""

from infra.web.assets import NPM_HINT, asset_routes, missing_libraries
from infra.web.pages import graphiql_page, page_routes, token_command
from infra.web.security import security_headers

__all__ = [
    "NPM_HINT",
    "asset_routes",
    "graphiql_page",
    "missing_libraries",
    "page_routes",
    "security_headers",
    "token_command",
]
