"""GraphiQL in headless Chromium with no network but the loopback, against a real `vigil
serve`: the page renders from Vigil alone, runs a query typed into the editor with the token
typed into Headers, shows a live subscription's points (the Headers tab went into
`connection_init`), and a refused token shows the close reason at once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.dashboards_browser import CHROMIUM, OFFLINE, Page, open_page
from tests.support import token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)",
    ),
]

WEB = Path(__file__).resolve().parents[2] / "web"
# The visible CodeMirror of a section (Headers shares its section with a hidden Variables).
EDITOR = (
    "Array.from(document.querySelectorAll('section[aria-label=\"{}\"] .CodeMirror'))"
    ".find((e) => !e.parentElement.classList.contains('hidden')).CodeMirror"
)
RESULT = EDITOR.format("Result Window") + ".getValue()"
POINT = (
    'mutation($v: Float!) { createMetric(project: "demo", point: {name: "cpu", value: $v}) { id } }'
)


async def type_into(page: Page, editor: str, text: str) -> None:
    """Replace the content of a GraphiQL editor by typing `text` into it."""
    await page.evaluate(f"{EDITOR.format(editor)}.focus()")
    await page.evaluate(f"{EDITOR.format(editor)}.execCommand('selectAll')")
    await page.call("Input.insertText", text=text)
    # CodeMirror reads its input field on its next poll.
    await page.wait_for(f"{EDITOR.format(editor)}.getValue().includes({json.dumps(text[-12:])})")


async def click(page: Page, selector: str) -> None:
    """A real mouse click in the middle of the element."""
    box = await page.evaluate(
        f"(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        await page.call(
            "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
        )


def send_point(vigil: VigilProcess, auth: str, value: float) -> None:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": POINT, "variables": {"v": value}},
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
    )
    assert "errors" not in response.json(), response.text


async def test_graphiql_works_offline_with_the_token_from_headers(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    assert (WEB / "node_modules" / "graphiql").is_dir(), "run `npm ci` in web/ (make test does)"
    vigil = vigil_process()
    admin = token(demo="admin")
    send_point(vigil, admin, 1.0)

    async with open_page(f"{vigil.url}/graphql", tmp_path / "profile", OFFLINE) as page:
        size = {"width": 1300, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        await page.call("Emulation.setDeviceMetricsOverride", **size)
        await page.wait_for("document.querySelectorAll('section[aria-label] .CodeMirror').length")
        assert "vigil token" in await page.evaluate("document.getElementById('hint').textContent")
        explorer = "document.querySelector('[aria-label=\"Show GraphiQL Explorer\"]') !== null"
        assert await page.evaluate(explorer)  # the explorer plugin is there

        await type_into(page, "Headers", f'{{"Authorization": "Bearer {token(demo="viewer")}"}}')
        await type_into(page, "Query Editor", '{ metricNames(project: "demo") }')
        await click(page, ".graphiql-execute-button")
        await page.wait_for(f"{RESULT}.includes('\"cpu\"')")
        assert '"metricNames"' in await page.evaluate(RESULT)

        await type_into(
            page, "Query Editor", 'subscription { metricCollected(project: "demo") { value } }'
        )
        await click(page, ".graphiql-execute-button")
        deadline = time.monotonic() + 15
        while "123.5" not in await page.evaluate(RESULT):  # sent until the subscription is up
            assert time.monotonic() < deadline, await page.evaluate(RESULT)
            await asyncio.to_thread(send_point, vigil, admin, 123.5)
            await asyncio.sleep(0.3)
        await click(page, ".graphiql-execute-button")  # stop it

        # A refused token: the close reason shows at once, not after ~40 s of retries.
        await type_into(page, "Headers", '{"Authorization": "Bearer not-a-token"}')
        await click(page, ".graphiql-execute-button")
        await page.wait_for(f"{RESULT}.includes('4403')", timeout=5)
        assert "token is malformed" in await page.evaluate(RESULT)

        # GraphiQL 3's websocket fetcher also leaves the error it shows as an unhandled
        # rejection; anything else is a fault of the page.
        assert [e for e in page.errors if "Socket closed with event 4403" not in e] == []
        hosts = {urlsplit(url).netloc for url in page.requests if not url.startswith("data:")}
        assert hosts == {f"127.0.0.1:{vigil.port}"}, page.requests
