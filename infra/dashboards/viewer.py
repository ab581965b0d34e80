"""The read-only dashboard viewer: a static page at /dashboards/{id} and its assets.

The page (web/viewer/) talks to /graphql over graphql-transport-ws with the token the user
gives it in the URL fragment (`#token=...`), which browsers never send to the server; the
charting and Markdown libraries are served from web/node_modules, installed by `npm ci`
(`make web`; `make serve` runs it when npm is there). Nothing is loaded from anywhere else:
the page's Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from infra.web.assets import missing_libraries
from infra.web.pages import missing_page
from infra.web.security import security_headers

__all__ = ["DEFAULT_WEB_DIR", "viewer_routes"]

DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web"

# name served -> (path under the web folder, media type); nothing else is served.
ASSETS = {
    "viewer.js": ("viewer/viewer.js", "text/javascript"),
    "viewer.css": ("viewer/viewer.css", "text/css"),
    "widgets.js": ("viewer/widgets.js", "text/javascript"),
    "charts.js": ("viewer/charts.js", "text/javascript"),
    "units.js": ("viewer/units.js", "text/javascript"),
    "uPlot.iife.min.js": ("node_modules/uplot/dist/uPlot.iife.min.js", "text/javascript"),
    "uPlot.min.css": ("node_modules/uplot/dist/uPlot.min.css", "text/css"),
    "markdown-it.min.js": ("node_modules/markdown-it/dist/markdown-it.min.js", "text/javascript"),
}
_LIBRARIES = tuple(path for path, _ in ASSETS.values() if path.startswith("node_modules/"))
_MISSING = (
    "The dashboard viewer's libraries are not installed: run `npm ci` in web/ "
    "(`make web` does it).\n"
)


def viewer_routes(web_dir: Path | str | None = None) -> list[BaseRoute]:
    """Routes of the viewer, serving the page and assets of `web_dir` (default: the
    repository's web/ folder)."""
    root = Path(web_dir) if web_dir else DEFAULT_WEB_DIR

    async def page(request: Request) -> Response:
        missing = missing_libraries(root, _LIBRARIES)
        if missing:
            return missing_page(request, "The dashboard viewer", missing)
        headers = security_headers(request) | {"Cache-Control": "no-store"}
        return FileResponse(root / "viewer" / "index.html", media_type="text/html", headers=headers)

    async def asset(request: Request) -> Response:
        found = ASSETS.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found\n", status_code=404)
        path = root / found[0]
        if not path.is_file():
            return PlainTextResponse(_MISSING, status_code=503)
        headers = security_headers(request) | {"Cache-Control": "no-cache"}
        return FileResponse(path, media_type=found[1], headers=headers)

    return [
        Route("/dashboards/assets/{name}", asset),
        Route("/dashboards/{dashboard_id}", page),
    ]
