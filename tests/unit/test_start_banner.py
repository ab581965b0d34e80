"""Issue 12, item 19: development mode binds to loopback by default, and the start message
says so loudly when it is told to listen beyond it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import Mode, Settings
from infra.startup import where_to_go

WARNING = "development mode listens on"


def test_the_default_binds_to_loopback_and_warns_of_nothing(tmp_path: Path) -> None:
    settings = Settings.from_env({"VIGIL_DATA_DIR": str(tmp_path)})
    assert settings.host == "127.0.0.1"
    assert WARNING not in where_to_go(settings, tmp_path)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "vigil.example"])
def test_development_mode_beyond_loopback_is_announced(tmp_path: Path, host: str) -> None:
    settings = Settings.from_env({"VIGIL_DATA_DIR": str(tmp_path), "VIGIL_HOST": host})
    message = where_to_go(settings, tmp_path)
    assert f"{WARNING} {host}, beyond this machine" in message
    assert "set VIGIL_MODE=production" in message


@pytest.mark.parametrize("host", ["127.0.0.2", "::1", "localhost"])
def test_other_loopback_addresses_are_quiet(tmp_path: Path, host: str) -> None:
    settings = Settings.from_env({"VIGIL_DATA_DIR": str(tmp_path), "VIGIL_HOST": host})
    assert WARNING not in where_to_go(settings, tmp_path)


def test_production_mode_is_quiet_anywhere(tmp_path: Path) -> None:
    env = {"VIGIL_DATA_DIR": str(tmp_path), "VIGIL_HOST": "0.0.0.0"}
    settings = Settings.from_env(env, mode=Mode.PRODUCTION)
    assert WARNING not in where_to_go(settings, tmp_path)


def test_a_missing_compiled_scanner_is_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.collectors import scan

    settings = Settings.from_env({"VIGIL_DATA_DIR": str(tmp_path)})
    assert "compiled body scanners" not in where_to_go(settings, tmp_path)  # built here
    monkeypatch.setattr(scan, "COMPILED", False)
    assert "Collectors:  the compiled body scanners were not built" in where_to_go(
        settings, tmp_path
    )
