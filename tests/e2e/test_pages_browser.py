"""Vigil's own pages in headless Chromium with only the loopback: `/` links where to go,
and `/dashboards` lists a project's dashboards, each opening the viewer with the token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.dashboards_browser import CHROMIUM, OFFLINE, open_page
from tests.support import token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)",
    ),
]

LINKS = "Array.from(document.querySelectorAll('#list a')).map((a) => [a.textContent, a.href])"


async def test_the_dashboard_list_links_each_dashboard_to_the_viewer(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    vigil = vigil_process()
    viewer = token("vic", system="viewer")
    url = f"{vigil.url}/dashboards?project=system#token={viewer}"
    async with open_page(url, tmp_path / "profile", OFFLINE) as page:
        await page.wait_for(f"{LINKS}.length > 0")
        [(name, href)] = await page.evaluate(LINKS)
        assert name == "Vigil system"
        assert href == f"{vigil.url}/dashboards/vigil-system?project=system#token={viewer}"
        assert await page.evaluate("location.hash") == ""  # the token left the address bar
        await page.evaluate("document.querySelector('#list a').click()")
        await page.wait_for("window.vigilViewer && window.vigilViewer.status === 'live'")
        assert await page.evaluate("document.title") == "Vigil system · Vigil"
        assert page.errors == []
        hosts = {urlsplit(u).netloc for u in page.requests if not u.startswith("data:")}
        assert hosts == {f"127.0.0.1:{vigil.port}"}


async def test_the_home_page_links_where_to_go(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    vigil = vigil_process()
    async with open_page(f"{vigil.url}/", tmp_path / "profile", OFFLINE) as page:
        await page.wait_for("document.querySelectorAll('a').length > 5")
        links = await page.evaluate("Array.from(document.querySelectorAll('a')).map((a) => a.href)")
        for path in ("/graphql", "/dashboards?project=system", "/readyz", "/docs/README.md"):
            assert f"{vigil.url}{path}" in links
        await page.evaluate("document.querySelector('a[href=\"/docs/api.md\"]').click()")
        # the next page may not have a body yet while it loads: wait for it, not past it
        await page.wait_for("document.body && document.body.innerText.startsWith('# API guide')")
        assert page.errors == []
