"""load_or_create_secret: one secret per machine, private, shared by `vigil token` and `serve`."""

from __future__ import annotations

import logging
import os
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.auth import LocalTokens, load_or_create_secret

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@posix_only
def test_creates_a_private_random_secret(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"

    secret = load_or_create_secret(path)

    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == secret.hex()
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_second_load_returns_the_same_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert load_or_create_secret(path) == load_or_create_secret(path)
    assert load_or_create_secret(tmp_path / "other.key") != load_or_create_secret(path)


def test_token_issued_by_one_process_verifies_in_another(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    issuer = LocalTokens(load_or_create_secret(path))  # `vigil token`
    server = LocalTokens(load_or_create_secret(path))  # `vigil serve`
    token = issuer.issue(subject="ana", projects={"demo": "admin"})
    assert server.verify_sync(token).subject == "ana"


def test_concurrent_creators_agree(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: load_or_create_secret(path), range(16)))
    assert len(secrets) == 1


@pytest.mark.parametrize("content", ["", "not hex at all", "ab" * 31, "x" * 64])
def test_unusable_secret_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "secret.key"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(ValueError, match="at least 64 hex characters"):
        load_or_create_secret(path)


@posix_only
def test_world_readable_secret_file_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "secret.key"
    path.write_text("ab" * 32)
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="infra.auth.local"):
        assert load_or_create_secret(path) == bytes.fromhex("ab" * 32)
    assert "chmod 600" in caplog.text
