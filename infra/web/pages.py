"""The pages a browser finds at Vigil: `/` (where to go), GraphiQL at `/graphql`, the list
of a project's dashboards at `/dashboards`, and the guides at `/docs/{name}`. Each is
self-hosted under the same Content-Security-Policy as the dashboard viewer."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from infra.web.assets import NPM_HINT, missing_libraries
from infra.web.security import security_headers

__all__ = ["graphiql_page", "page_routes", "token_command"]

CHECKOUT = Path(__file__).resolve().parents[2]
_DOC_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\.md")


def token_command() -> str:
    """The `vigil token` command a newcomer can paste, with the path of this install's
    `vigil` (`.venv/bin/vigil` in a checkout)."""
    vigil = Path(sys.executable).parent / "vigil"
    shown = "vigil"
    if vigil.is_file():
        try:
            shown = str(vigil.relative_to(Path.cwd()))
        except ValueError:
            shown = str(vigil)
    return f"{shown} token --subject you --project demo --role admin --project system --role viewer"


def _page(
    request: Request,
    title: str,
    body: str,
    *,
    scripts: tuple[str, ...] = (),
    styles: tuple[str, ...] = ("pages.css",),
    status: int = 200,
) -> Response:
    links = "".join(f'<link rel="stylesheet" href="/assets/{name}">' for name in styles)
    tags = "".join(f'<script src="/assets/{name}"></script>' for name in scripts)
    text = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{links}</head>"
        f"<body>{body}{tags}</body></html>\n"
    )
    headers = security_headers(request) | {"Cache-Control": "no-store"}
    return HTMLResponse(text, status_code=status, headers=headers)


def missing_page(request: Request, what: str, packages: list[str]) -> Response:
    """What a page needs that is not installed, instead of a page that never loads."""
    body = (
        f"<main><h1>{html.escape(what)} needs its libraries</h1>"
        f"<p>Not installed: <code>{html.escape(', '.join(packages))}</code>. "
        f"To serve this page, {html.escape(NPM_HINT)}, then reload. The API at "
        "<code>/graphql</code> works without them.</p></main>"
    )
    return _page(request, f"{what} · Vigil", body, styles=(), status=503)


def graphiql_page(request: Request, web_dir: Path) -> Response:
    """GraphiQL with the explorer plugin, from web/node_modules; the start script
    (web/pages/graphiql-start.js) sends the Headers tab in `connection_init` too."""
    missing = missing_libraries(web_dir)
    if missing:
        return missing_page(request, "GraphiQL", missing)
    body = (
        '<p id="hint" class="hint">Paste <code>{"Authorization": "Bearer &lt;token&gt;"}</code>'
        " in <b>Headers</b> below; it goes with queries and in the websocket's "
        f"<code>connection_init</code>. <code>{html.escape(token_command())}</code> prints "
        'a token. <a href="/">Vigil</a></p><div id="graphiql">Loading GraphiQL...</div>'
    )
    return _page(
        request,
        "GraphiQL · Vigil",
        body,
        styles=("graphiql.min.css", "plugin-explorer.css", "pages.css"),
        scripts=(
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "plugin-explorer.umd.js",
            "graphql-ws.min.js",
            "graphiql-start.js",
        ),
    )


def page_routes(web_dir: Path, *, graphiql: bool) -> list[BaseRoute]:
    """`/`, `/dashboards` and `/docs/{name}`; `graphiql`: whether /graphql serves GraphiQL."""

    async def home(request: Request) -> Response:
        return _page(request, "Vigil", _home_body(web_dir, graphiql=graphiql))

    async def dashboards(request: Request) -> Response:
        missing = [p for p in ("pages/dashboards-list.js",) if not (web_dir / p).is_file()]
        if missing:
            return missing_page(request, "The dashboard list", missing)
        body = (
            '<main><h1>Dashboards</h1><form id="open" hidden>'
            '<label>Project <input id="project" required></label>'
            '<label>Token <input id="token" type="password" autocomplete="off" required>'
            '</label><button type="submit">List</button></form>'
            '<p id="status" class="status"></p><ul id="list"></ul>'
            '<p class="hint">A token: <code>'
            f"{html.escape(token_command())}</code>. Open as "
            "<code>/dashboards?project=NAME#token=TOKEN</code> to skip the form; the part "
            'after # never leaves the browser. <a href="/">Vigil</a></p></main>'
        )
        return _page(request, "Dashboards · Vigil", body, scripts=("dashboards-list.js",))

    async def doc(request: Request) -> Response:
        path = _doc_path(request.path_params["name"])
        if path is None:
            return PlainTextResponse("Not Found\n", status_code=404)
        headers = security_headers(request) | {"Cache-Control": "no-cache"}
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers=headers)

    return [
        Route("/", home),
        Route("/dashboards", dashboards),
        Route("/docs/{name}", doc),
    ]


def _doc_path(name: str) -> Path | None:
    """README.md of the checkout or one of its docs/*.md; nothing else."""
    if name == "README.md":
        path = CHECKOUT / name
    elif _DOC_NAME.fullmatch(name):
        path = CHECKOUT / "docs" / name
    else:
        return None
    return path if path.is_file() else None


def _guides() -> list[str]:
    docs = CHECKOUT / "docs"
    names = sorted(p.name for p in docs.glob("*.md")) if docs.is_dir() else []
    return (["README.md"] if (CHECKOUT / "README.md").is_file() else []) + names


def _home_body(web_dir: Path, *, graphiql: bool) -> str:
    missing = missing_libraries(web_dir)
    if not graphiql:
        explore = "<li>GraphiQL is off in production mode.</li>"
    elif missing:
        explore = f"<li>GraphiQL (<code>/graphql</code>) needs its libraries: {NPM_HINT}.</li>"
    else:
        explore = (
            '<li><a href="/graphql">GraphiQL</a>: queries, mutations and live subscriptions;'
            ' put <code>{"Authorization": "Bearer &lt;token&gt;"}</code> in its Headers.</li>'
        )
    guides = "".join(
        f'<li><a href="/docs/{name}">{html.escape(name.removesuffix(".md"))}</a></li>'
        for name in _guides()
    )
    return (
        "<main><h1>Vigil</h1><p>Real-time monitoring: metrics in, alerts out, live "
        "dashboards. One GraphQL endpoint, <code>/graphql</code>.</p><ul>"
        f"{explore}"
        '<li><a href="/dashboards?project=system">Dashboards</a> of a project (the built-in '
        '"Vigil system" dashboard is in project <code>system</code>).</li>'
        '<li>Health: <a href="/readyz">readiness</a> (each component) and '
        '<a href="/healthz">liveness</a>.</li></ul>'
        f"<h2>A token</h2><pre>{html.escape(token_command())}</pre>"
        "<p>Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>"
        + (f"<h2>Guides</h2><ul>{guides}</ul>" if guides else "")
        + "</main>"
    )
