"""The first run, as a newcomer meets it: `make serve` without npm, `vigil token` from any
folder, the start message, and the answers to the first mistakes (a second server on the
same file, a zero lifetime), each with the real commands."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import VigilProcess, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)  # the suite runs in the project's virtualenv
MAKE = shutil.which("make")
NODE_CLIENTS = ("tests/e2e/node/package.json", "tests/e2e/node/package-lock.json")
NAMES = '{"query": "{ metricNames(project: \\"demo\\") }"}'


def vigil_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV / "bin" / "vigil"), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def names(url: str, auth: str) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql",
        content=NAMES,
        headers={"Authorization": f"Bearer {auth}", "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_token_minted_in_any_folder_is_accepted(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    vigil = vigil_process(VIGIL_SECRET="", VIGIL_DATA_DIR=str(data))  # the secret file
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    minted = vigil_cli(
        "token", "--subject", "ana", "--project", "demo", "--role", "viewer",
        cwd=elsewhere, env={"VIGIL_DATA_DIR": str(data), "VIGIL_SECRET": ""},
    )  # fmt: skip
    assert minted.returncode == 0, minted.stderr
    assert names(vigil.url, minted.stdout.strip()).json() == {"data": {"metricNames": []}}
    assert not (elsewhere / "var").exists()  # nothing created in the working folder

    # A token signed with another secret is refused with a hint at the cause.
    other = vigil_cli(
        "token", "--subject", "ana", "--project", "demo", "--role", "viewer",
        cwd=elsewhere, env={"VIGIL_DATA_DIR": str(tmp_path / "other"), "VIGIL_SECRET": ""},
    )  # fmt: skip
    error = names(vigil.url, other.stdout.strip()).json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith("token signature is invalid: it was not signed with")
    assert "vigil token" in error["message"] and "VIGIL_DATA_DIR" in error["message"]


def test_the_start_message_says_where_to_go(vigil_process: Callable[..., VigilProcess]) -> None:
    vigil = vigil_process()
    log = vigil.log.read_text()
    assert f"Vigil is ready: http://127.0.0.1:{vigil.port}/ (development mode)" in log
    assert f"GraphiQL:    http://127.0.0.1:{vigil.port}/graphql" in log
    assert f"Dashboards:  http://127.0.0.1:{vigil.port}/dashboards?project=system" in log
    assert "token --subject you --project demo --role admin" in log
    assert f"Health:      http://127.0.0.1:{vigil.port}/readyz" in log


def test_a_second_server_on_the_same_file_says_so_in_one_line(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    first = vigil_process()
    assert first.process is not None
    store = first.env["VIGIL_STORE_URL"].removeprefix("duckdb:///")
    second = subprocess.run(
        [sys.executable, "-m", "infra.cli", "serve", "--port", str(free_port())],
        env=first.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    errors = [line for line in second.stderr.splitlines() if line.startswith("ERROR")]
    assert errors[0] == (
        f"ERROR:    Vigil cannot start: Vigil is already running on {store} "
        f"(PID {first.process.pid}): stop it, or give this one another VIGIL_DATA_DIR or "
        "VIGIL_STORE_URL"
    )
    assert "Traceback" not in second.stderr
    # Around it, uvicorn's own lines only: the port listens before the start (issue 12,
    # item 12), so they tell of the server's start and its stop after the failure.
    others = [line for line in second.stderr.splitlines() if not line.startswith("ERROR")]
    assert len(errors) == 1 and all(line.startswith("INFO:") for line in others), second.stderr
    assert len(others) <= 8, second.stderr


@pytest.mark.parametrize("ttl", ["0", "-5", "soon"])
def test_a_lifetime_that_is_not_positive_is_named_as_the_option(tmp_path: Path, ttl: str) -> None:
    answer = vigil_cli(
        "token", "--subject", "a", "--project", "demo", "--role", "admin", "--ttl", ttl,
        cwd=tmp_path, env={"VIGIL_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert answer.returncode == 2
    assert f"argument --ttl: '{ttl}' is not a lifetime: give a whole number of seconds" in (
        answer.stderr
    )
    assert "ttl_seconds" not in answer.stderr


# -- make serve --------------------------------------------------------------------------------


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """The source tree as a fresh clone has it: no node_modules, no var/, no virtualenv."""
    copy = tmp_path / "vigil"
    skip = shutil.ignore_patterns("node_modules", "__pycache__", "*.duckdb*")
    for name in ("domain", "schema", "resolvers", "infra", "web", "docs"):
        shutil.copytree(ROOT / name, copy / name, ignore=skip)
    for name in ("Makefile", "pyproject.toml", "setup.py", "README.md", *NODE_CLIENTS):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)  # copy2: mtimes, so the install looks current
    return copy


@pytest.fixture
def no_npm(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose PATH holds no npm (nor node): an empty folder."""
    empty = tmp_path / "bin"
    empty.mkdir()
    yield {"PATH": str(empty), "HOME": str(tmp_path)}


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_serve_installs_vigil_alone_and_test_the_dev_extra(
    source_copy: Path, no_npm: dict[str, str]
) -> None:
    serve = subprocess.run(
        [str(MAKE), "-n", "serve"], cwd=source_copy, env=no_npm, capture_output=True, text=True
    ).stdout
    assert ".venv/bin/python -m pip install --quiet -e .\n" in serve
    assert "[dev]" not in serve and "npm ci" not in serve
    assert "npm not found: serving the API" in serve
    test = subprocess.run(
        [str(MAKE), "-n", "test"], cwd=source_copy, env=no_npm, capture_output=True, text=True
    ).stdout
    assert ".venv/bin/python -m pip install --quiet -e '.[dev]'" in test
    assert "cd web && npm ci" in test and "cd tests/e2e/node && npm ci" in test


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_serve_without_npm_serves_the_api(
    source_copy: Path, no_npm: dict[str, str], tmp_path: Path
) -> None:
    assert (VENV / ".installed").exists(), "the suite's virtualenv is installed by make test"
    port = free_port()
    env = {
        **no_npm,
        "VIGIL_PORT": str(port),
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_SELF_MONITOR_SECONDS": "0",
        "VIGIL_WEB_DIR": str(source_copy / "web"),  # the installed Vigil is this checkout's
    }
    log = tmp_path / "make-serve.log"
    # -o: the virtualenv counts as installed, so make installs nothing into the suite's.
    command = [str(MAKE), "serve", f"VENV={VENV}", "-o", f"{VENV}/bin/python"]
    command += ["-o", f"{VENV}/.serve-installed"]
    with log.open("w") as out:
        make = subprocess.Popen(
            command, cwd=source_copy, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert make.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        minted = vigil_cli(
            "token", "--subject", "a", "--project", "demo", "--role", "viewer",
            cwd=tmp_path, env={"VIGIL_DATA_DIR": env["VIGIL_DATA_DIR"]},
        )  # fmt: skip
        assert names(url, minted.stdout.strip()).json() == {"data": {"metricNames": []}}
        graphiql = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}, timeout=10)
        assert graphiql.status_code == 503 and "run `npm ci` in web/" in graphiql.text
        text = log.read_text()
        assert "npm not found: serving the API" in text
        assert "GraphiQL:    not installed: run `npm ci` in web/" in text
    finally:
        os.killpg(make.pid, signal.SIGTERM)  # make and the vigil it started, nothing else
        make.wait(15)
