"""Accepted collector writes leave no access-log line by default; everything else does."""

from __future__ import annotations

import logging

import pytest

from infra.access_log import QuietWrites


def record(method: str, path: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", method, path, "1.1", status), None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "status", "logged"),
    [
        ("POST", "/api/v1/write", 204, False),
        ("POST", "/write?db=telegraf&precision=s", 204, False),
        ("POST", "/api/v2/write?org=o&bucket=b", 204, False),
        ("POST", "/v1/metrics", 200, False),
        ("POST", "/api/v1/write", 400, True),  # refused: someone should see it
        ("POST", "/api/v1/write", 429, True),
        ("POST", "/write", 401, True),
        ("POST", "/graphql", 200, True),
        ("GET", "/write", 200, True),
        ("POST", "/writes", 204, True),
    ],
)
def test_only_accepted_writes_are_dropped(
    method: str, path: str, status: int, logged: bool
) -> None:
    assert QuietWrites().filter(record(method, path, status)) is logged


def test_other_records_pass() -> None:
    other = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started", None, None)
    assert QuietWrites().filter(other)


@pytest.mark.parametrize("writes", [False, True])
def test_serve_installs_the_filter_unless_writes_are_asked_for(writes: bool) -> None:
    """Read from the configuration `vigil serve` hands uvicorn (applying it here would
    change this process's loggers for the tests after this one)."""
    from infra.cli import logging_config
    from infra.config import Settings

    config = logging_config(Settings.from_env({}, access_log_writes=writes))
    filters = config["loggers"]["uvicorn.access"].get("filters", [])
    assert ("quiet_writes" in filters) is not writes
    if not writes:
        assert config["filters"]["quiet_writes"]["()"] == "infra.access_log.QuietWrites"
    assert all(h["filters"] == ["credentials"] for h in config["handlers"].values())
