"""The files the GraphiQL and dashboard-list pages load, served at /assets/{name} from the
web folder: Vigil's own scripts (web/pages/) and the libraries `npm ci` installs
(web/node_modules/). Only the names listed here are served."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from infra.web.security import security_headers

__all__ = ["ASSETS", "LIBRARIES", "NPM_HINT", "asset_routes", "missing_libraries"]

_JS, _CSS = "text/javascript", "text/css"
# name served -> (path under the web folder, media type)
ASSETS = {
    "react.production.min.js": ("node_modules/react/umd/react.production.min.js", _JS),
    "react-dom.production.min.js": (
        "node_modules/react-dom/umd/react-dom.production.min.js",
        _JS,
    ),
    "graphiql.min.js": ("node_modules/graphiql/graphiql.min.js", _JS),
    "graphiql.min.css": ("node_modules/graphiql/graphiql.min.css", _CSS),
    "plugin-explorer.umd.js": ("node_modules/@graphiql/plugin-explorer/dist/index.umd.js", _JS),
    "plugin-explorer.css": ("node_modules/@graphiql/plugin-explorer/dist/style.css", _CSS),
    "graphql-ws.min.js": ("node_modules/graphql-ws/umd/graphql-ws.min.js", _JS),
    "graphiql-start.js": ("pages/graphiql-start.js", _JS),
    "dashboards-list.js": ("pages/dashboards-list.js", _JS),
    "pages.css": ("pages/pages.css", _CSS),
}
# What `npm ci` installs, one file per package: missing means the pages cannot work.
LIBRARIES = tuple(path for path, _ in ASSETS.values() if path.startswith("node_modules/"))
NPM_HINT = "run `npm ci` in web/ (`make web` does it; needs Node.js and npm)"


def missing_libraries(web_dir: Path, paths: tuple[str, ...] = LIBRARIES) -> list[str]:
    """The npm packages among `paths` (default: the pages' libraries) not installed under
    `web_dir`."""
    return sorted({_package(path) for path in paths if not (web_dir / path).is_file()})


def _package(path: str) -> str:
    parts = path.split("/")  # node_modules/<name>/... or node_modules/@scope/<name>/...
    return "/".join(parts[1:3]) if parts[1].startswith("@") else parts[1]


def asset_routes(web_dir: Path) -> list[BaseRoute]:
    async def asset(request: Request) -> Response:
        found = ASSETS.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found\n", status_code=404)
        path = web_dir / found[0]
        if not path.is_file():
            return PlainTextResponse(f"{found[0]} is not installed: {NPM_HINT}\n", 503)
        headers = security_headers(request) | {"Cache-Control": "no-cache"}
        return FileResponse(path, media_type=found[1], headers=headers)

    return [Route("/assets/{name}", asset)]
