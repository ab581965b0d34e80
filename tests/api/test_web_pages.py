"""The pages Vigil serves to browsers: every one self-hosted (no other host in its HTML or
its Content-Security-Policy), `/` says where to go, the guides are readable, and without
`npm ci` the API still works while the pages say what to run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.web.assets import ASSETS
from tests.support import RunningVigil, make_settings, serve, token

PAGES = [
    "/",
    "/graphql",
    "/dashboards",
    "/dashboards/vigil-system?project=system",
]
# Anything that names a host: scheme://host, or a protocol-relative //host in an attribute.
HOSTS = re.compile(r"""(?:\b[a-z][a-z0-9+.-]*:)?//([^/\s"'<>;)]+)""", re.IGNORECASE)


def named_hosts(text: str) -> set[str]:
    return {match.group(1) for match in HOSTS.finditer(text)}


@pytest.mark.parametrize("path", PAGES)
async def test_no_page_names_another_host(vigil: RunningVigil, path: str) -> None:
    response = await vigil.http.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    own = vigil.url.removeprefix("http://")
    assert named_hosts(response.text) <= {own}, response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert named_hosts(policy) <= {own}, policy


@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_every_asset_is_installed_and_served_under_the_policy(
    vigil: RunningVigil, name: str
) -> None:
    response = await vigil.http.get(f"/assets/{name}")
    assert response.status_code == 200, f"{name}: {response.text[:200]} (run npm ci in web/)"
    assert response.headers["content-type"].startswith(ASSETS[name][1])
    assert "content-security-policy" in response.headers


async def test_the_home_page_says_where_to_go(vigil: RunningVigil) -> None:
    page = (await vigil.http.get("/")).text
    for link in ('href="/graphql"', 'href="/dashboards?project=system"', 'href="/readyz"'):
        assert link in page
    assert "vigil token --subject you --project demo --role admin" in page
    assert 'href="/docs/README.md"' in page and 'href="/docs/api.md"' in page


async def test_the_guides_are_served_as_text_and_nothing_else(vigil: RunningVigil) -> None:
    readme = await vigil.http.get("/docs/README.md")
    assert readme.status_code == 200 and readme.text.startswith("# Vigil")
    assert readme.headers["content-type"] == "text/plain; charset=utf-8"
    assert (await vigil.http.get("/docs/api.md")).text.startswith("# API guide")
    for name in ("pyproject.toml", "..%2Fpyproject.toml", "nope.md", ".env"):
        assert (await vigil.http.get(f"/docs/{name}")).status_code == 404, name


async def test_without_npm_ci_the_api_works_and_the_pages_say_what_to_run(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "web"
    empty.mkdir()
    async with serve(make_settings(tmp_path, web_dir=str(empty))) as vigil:
        data = await vigil.ok('{ metricNames(project: "demo") }', auth=token(demo="viewer"))
        assert data == {"metricNames": []}
        for path in ("/graphql", "/dashboards/vigil-system?project=system"):
            page = await vigil.http.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 503, path
            assert "run `npm ci` in web/" in page.text
            assert "works without them" in page.text
        home = (await vigil.http.get("/")).text
        assert "needs its libraries: run `npm ci` in web/" in home
