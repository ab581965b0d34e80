"""Tools a test drives (Debian packages, npm, real senders): find them, or skip saying why.

Under CI (`CI` set, as `.ci/run` runs), a missing tool fails the test instead: `.ci/run`
installs every tool the suite needs, so one that is missing is a broken run, not a skip.
Only what cannot exist on these machines (a MongoDB server) may skip there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = ["in_ci", "missing", "need_tool"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skip with `reason`, or fail with it under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI must install it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


def need_tool(name: str, *places: str, install: str) -> str:
    """The path of executable `name` (on PATH or at one of `places`), or skip/fail naming
    how to install it."""
    found = shutil.which(name) or next((p for p in places if Path(p).exists()), None)
    if found is None:
        missing(f"{name} is not installed ({install})")
    assert found is not None
    return found
