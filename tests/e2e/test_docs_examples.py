"""Every shell and Python example of README.md and docs/*.md runs as pasted (in one shell
per document, in order, like a reader's terminal) against a real `vigil serve`, and so do
the README's GraphQL examples, its walkthrough. Examples that need what this machine cannot
have are marked `skip: <why>` in their fence, and show up here as skipped, with the why."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from graphql import OperationType, get_operation_ast, parse

from tests.e2e.conftest import free_port
from tests.e2e.docs_examples import ROOT, SHELL, Example, Session, every_example
from tests.support import ws_client

pytestmark = pytest.mark.e2e

VENV = Path(sys.prefix)
RUN = SHELL | {"python"}
CASES = [
    e
    for e in every_example()
    if e.language in RUN or (e.language == "graphql" and e.document.name == "README.md")
]
FAILED = ('"errors"', "Traceback", "command not found", "No such file or directory")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_every_example_names_its_language() -> None:
    """So that no shell example hides from this test as an unlabelled block."""
    unlabelled = [e.name for e in every_example() if not e.language]
    assert unlabelled == [], "give these fences a language (sh, python, text, ...)"


class Server:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.statsd_port = free_udp_port()
        self.env = {
            **os.environ,
            "VIGIL_DATA_DIR": str(folder / "data"),  # the secret both vigil token and it use
            "VIGIL_PORT": str(self.port),
            "VIGIL_STATSD_ADDR": f"127.0.0.1:{self.statsd_port}",
            "VIGIL_STATSD_PROJECT": "demo",
        }
        self.env.pop("VIGIL_SECRET", None)
        self.log = folder / "vigil.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(VENV / "bin" / "vigil"), "serve"], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "vigil serve did not become ready"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.admin = self.token("--project", "demo", "--role", "admin")

    def token(self, *projects: str) -> str:
        out = subprocess.run(
            [str(VENV / "bin" / "vigil"), "token", "--subject", "docs", *projects],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def send_point(self) -> None:
        httpx.post(
            f"{self.url}/graphql",
            json={
                "query": 'mutation { createMetric(project: "demo", point: '
                '{name: "docs.tick", value: 1}) { id } }'
            },
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=10,
        ).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("docs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def session_for(server: Server) -> Iterator[Callable[[Path], Session]]:
    """One shell per document, opened in the checkout (where `.venv/bin/vigil` is)."""
    sessions: dict[Path, Session] = {}
    env = {k: v for k, v in server.env.items() if k in ("PATH", "HOME", "LANG", "VIGIL_DATA_DIR")}

    def get(document: Path) -> Session:
        if document not in sessions:
            ports = {
                "127.0.0.1:8000": f"127.0.0.1:{server.port}",
                '"127.0.0.1", 8125': f'"127.0.0.1", {server.statsd_port}',
            }
            sessions[document] = Session(env, ROOT, ports)
        return sessions[document]

    yield get
    for session in sessions.values():
        session.close()


@pytest.mark.parametrize("example", CASES, ids=[e.name for e in CASES])
def test_the_example_runs_as_pasted(
    example: Example, server: Server, session_for: Callable[[Path], Session]
) -> None:
    if example.skip:
        pytest.skip(f"{example.name}: {example.skip}")
    assert (ROOT / ".venv" / "bin" / "vigil").exists(), "the examples use .venv/bin/vigil"
    if example.language == "graphql":
        asyncio.run(run_graphql(example, server))
        return
    output = session_for(example.document).run(example, while_running=server.send_point)
    assert not [sign for sign in FAILED if sign in output], f"{example.name}:\n{output}"
    if example.expect:
        assert example.expect in output, f"{example.name}:\n{output}"


async def run_graphql(example: Example, server: Server) -> None:
    """As GraphiQL would with an admin token: queries and mutations answer without errors,
    a subscription is accepted (no error within a second)."""
    operation = get_operation_ast(parse(example.code))
    assert operation is not None
    auth = server.token(
        "--project", "demo", "--role", "admin", "--project", "system", "--role", "admin"
    )
    if operation.operation is not OperationType.SUBSCRIPTION:
        async with httpx.AsyncClient(timeout=10) as http:
            body = (
                await http.post(
                    f"{server.url}/graphql",
                    json={"query": example.code},
                    headers={"Authorization": f"Bearer {auth}"},
                )
            ).json()
        assert "errors" not in body, f"{example.name}: {body}"
        return
    async with ws_client(f"ws://127.0.0.1:{server.port}/graphql", auth) as client:
        op = await client.subscribe(example.code)
        try:
            message = await client.next_for(op, timeout=1.0)
        except TimeoutError:
            return
        assert message["type"] == "next", f"{example.name}: {message}"
