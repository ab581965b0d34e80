"""Reading the examples of README.md and docs/*.md, and running them as a reader pastes them:
the shell and Python ones of a document in one shell session, in order, against a real
`vigil serve`.

A fenced block's info string says how: its first word is the language (`sh`, `python`,
`graphql`, `text`, ...); then `skip: <why>` leaves it out, visibly (it needs what this
machine cannot have, such as Docker or a MongoDB server); `runs-until-stopped` marks an
example that streams until the reader stops it; `expect=<text>` names what its output
must show. The only change made to an example is the ports: the documents say 8000 (and
8125 for StatsD), the test's server listens on free ones.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOCUMENTS", "Example", "Session", "examples"]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell"}
_FENCE = re.compile(r"^```(.*)$")
_DONE = "__vigil_example_done__"


@dataclass(frozen=True)
class Example:
    document: Path
    line: int
    info: str
    code: str

    @property
    def language(self) -> str:
        return self.info.split(maxsplit=1)[0] if self.info else ""

    @property
    def skip(self) -> str | None:
        found = re.search(r"\bskip:\s*(.+)$", self.info)
        return found.group(1).strip() if found else None

    @property
    def expect(self) -> str | None:
        found = re.search(r"\bexpect=(\S+)", self.info)
        return found.group(1) if found else None

    @property
    def until_stopped(self) -> bool:
        return "runs-until-stopped" in self.info.split()

    @property
    def name(self) -> str:
        return f"{self.document.name}:{self.line}-{self.language or 'unlabelled'}"


def examples(document: Path) -> list[Example]:
    """Every fenced block of `document`, with the line its fence opens on."""
    found: list[Example] = []
    lines = document.read_text().splitlines()
    number = 0
    while number < len(lines):
        opening = _FENCE.match(lines[number])
        if opening is None:
            number += 1
            continue
        end = number + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        code = "\n".join(lines[number + 1 : end]) + "\n"
        found.append(Example(document, number + 1, opening.group(1).strip(), code))
        number = end + 1
    return found


class Session:
    """One bash, as a reader's terminal: variables set by one example are there for the
    next. `set -e`: a failing command ends the session, and the example with it."""

    def __init__(self, env: dict[str, str], cwd: Path, ports: dict[str, str]) -> None:
        self.ports = ports  # as written -> as served, e.g. "127.0.0.1:8000" -> "127.0.0.1:41234"
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._send("set -eo pipefail\n")

    def run(
        self,
        example: Example,
        *,
        timeout: float = 60,
        while_running: Callable[[], None] = lambda: None,
    ) -> str:
        """The output of `example`; raises AssertionError with that output if it fails."""
        code = example.code
        for written, served in self.ports.items():
            code = code.replace(written, served)
        if example.language == "python" and example.until_stopped:
            # In the background, so that the test can stop it as the reader would (Ctrl-C).
            script = (
                f".venv/bin/python - <<'VIGIL_EXAMPLE' &\n{code}VIGIL_EXAMPLE\n"
                'echo "__pid__ $!"\nwait $! || true\n'
            )
        elif example.language == "python":
            script = f".venv/bin/python - <<'VIGIL_EXAMPLE'\n{code}VIGIL_EXAMPLE\n"
        else:
            script = code
        self._send(f"{script}\nprintf '\\n{_DONE}\\n'\n")
        return self._collect(example, timeout, while_running)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)  # the session and what it started
        self._process.wait(10)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _collect(self, example: Example, timeout: float, while_running: Callable[[], None]) -> str:
        output: list[str] = []
        deadline = time.monotonic() + timeout
        live_pid: int | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{example.name} did not finish:\n{''.join(output)}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if live_pid is not None:
                    while_running()
                continue
            if line is None:
                raise AssertionError(
                    f"{example.name} failed (the shell exited):\n{''.join(output)}"
                )
            if line.strip() == _DONE:
                return "".join(output)
            if line.startswith("__pid__ "):
                live_pid = int(line.split()[1])
                continue
            output.append(line)
            if live_pid is not None and example.expect and example.expect in "".join(output):
                os.kill(live_pid, signal.SIGTERM)  # the example the session started
                live_pid = None

    def _send(self, text: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(text)
        self._process.stdin.flush()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)


def every_example() -> Iterator[Example]:
    for document in DOCUMENTS:
        yield from examples(document)
