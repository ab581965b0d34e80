"""The graphql-ws client from npm, under Node, against a real `vigil serve`, running the
snippet of docs/api.md as written there: a refused token surfaces at once as an error with
Vigil's close reason (graphql-ws retries 4403 for ~40 s unless told not to), and a valid
token streams points."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.support import token

NODE = shutil.which("node")
CLIENTS = Path(__file__).resolve().parent / "node"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node.js 18+ with npm)"),
]


def snippet(port: int) -> str:
    """The graphql-ws example of docs/api.md, pointed at the test's server."""
    blocks = re.findall(r"^```js\n(.*?)^```", API_DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "docs/api.md has one js example"
    assert "127.0.0.1:8000" in blocks[0]
    return blocks[0].replace("127.0.0.1:8000", f"127.0.0.1:{port}")


def start_client(vigil: VigilProcess, auth: str) -> subprocess.Popen[str]:
    assert (CLIENTS / "node_modules" / "graphql-ws").is_dir(), (
        "run `npm ci` in tests/e2e/node (make test does)"
    )
    script = CLIENTS / f"snippet-{vigil.port}.mjs"  # beside node_modules, which it imports
    script.write_text(snippet(vigil.port))
    return subprocess.Popen(
        [str(NODE), script.name],
        cwd=CLIENTS,
        env={"PATH": "/usr/bin:/bin", "TOKEN": auth},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_refused_token_surfaces_at_once_with_the_reason(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process()
    started = time.monotonic()
    client = start_client(vigil, token(ttl=-10, demo="viewer"))
    try:
        out, err = client.communicate(timeout=60)
    finally:
        client.kill()
        (CLIENTS / f"snippet-{vigil.port}.mjs").unlink()
    seconds = time.monotonic() - started
    assert client.returncode == 0, err
    # Not a timing assertion: how long it took is reported, the reason is what is checked.
    assert (
        err.strip() == "closed 4403: token expired: mint a new one (vigil token) and reconnect"
    ), f"after {seconds:.2f} s: {err}"
    assert out == ""
    print(f"graphql-ws surfaced the refused token after {seconds:.2f} s (node start included)")


def test_a_valid_token_streams_points(vigil_process: Callable[..., VigilProcess]) -> None:
    vigil = vigil_process()
    admin = token(demo="admin")
    client = start_client(vigil, token(demo="viewer"))
    try:
        assert client.stdout is not None
        deadline = time.monotonic() + 20
        while True:  # sent until the subscription is up, then read
            assert time.monotonic() < deadline, "no point reached the graphql-ws client"
            httpx.post(
                f"{vigil.url}/graphql",
                json={
                    "query": 'mutation { createMetric(project: "demo", point: '
                    '{name: "cpu", value: 7.5}) { id } }'
                },
                headers={"Authorization": f"Bearer {admin}"},
                timeout=10,
            ).raise_for_status()
            line = _read_line(client, timeout=0.5)
            if line:
                break
        assert line.strip() == '{"metricCollected":[{"name":"cpu","value":7.5}]}'
    finally:
        client.kill()
        client.communicate()
        (CLIENTS / f"snippet-{vigil.port}.mjs").unlink()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if selector.select(timeout):
            return process.stdout.readline()
    return ""
