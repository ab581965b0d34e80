"""Settings: store URLs as documented, and clear errors for unusable values."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import ConfigError, Settings
from tests.support import make_settings, serve, token


async def test_a_relative_duckdb_url_lands_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with serve(make_settings(tmp_path, store_url="duckdb:///var/here.duckdb")) as vigil:
        await vigil.ok(
            'mutation { createMetric(project: "demo", point: {name: "x", value: 1}) { id } }',
            auth=token(demo="admin"),
        )
    assert (tmp_path / "var" / "here.duckdb").exists()


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"VIGIL_PORT": "eighty"}, "VIGIL_PORT='eighty' is not a valid int"),
        ({"VIGIL_MODE": "staging"}, "VIGIL_MODE='staging'"),
        ({"VIGIL_STORE_URL": "sqlite:///x"}, "VIGIL_STORE_URL must be"),
        ({"VIGIL_BUS_URL": "kafka://x"}, "VIGIL_BUS_URL must start"),
        ({"VIGIL_AUTH_MODE": "jwks"}, "needs VIGIL_JWKS_URL"),
        ({"VIGIL_MAX_BATCH": "0"}, "VIGIL_MAX_BATCH must be positive"),
        ({"VIGIL_TLS_KEY_FILE": "/no/key.pem"}, "VIGIL_TLS_CERT_FILE and VIGIL_TLS_KEY_FILE go"),
        ({"VIGIL_AUDIT_CHECKPOINT_SECONDS": "0"}, "VIGIL_AUDIT_CHECKPOINT_SECONDS must be"),
        ({"VIGIL_COMPLIANCE_CHECK_SECONDS": "-1"}, "VIGIL_COMPLIANCE_CHECK_SECONDS must be 0"),
        ({"VIGIL_RETENTION_DAYS": "0"}, "VIGIL_RETENTION_DAYS must be positive"),
        ({"VIGIL_RETENTION_DAYS": "20800"}, "VIGIL_RETENTION_DAYS must be at most 10000"),
        # Issue 12, items 9, 17 and 18.
        ({"VIGIL_WS_MAX_PER_SUBJECT": "0"}, "VIGIL_WS_MAX_PER_SUBJECT must be positive"),
        ({"VIGIL_ALLOWED_ORIGINS": "grafana.example.com"}, "'grafana.example.com' is not an"),
        ({"VIGIL_ALLOWED_ORIGINS": "https://a.example/app"}, "VIGIL_ALLOWED_ORIGINS: 'https"),
        ({"VIGIL_BUS_SECRET": "short"}, "VIGIL_BUS_SECRET must be at least 32 characters"),
        (
            {"VIGIL_MODE": "production", "VIGIL_BUS_URL": "redis://r:6379/0"},
            "VIGIL_BUS_SECRET is required with a redis:// bus in production mode",
        ),
        (
            {
                "VIGIL_AUTH_MODE": "jwks",
                "VIGIL_JWKS_URL": "https://idp/jwks",
                "VIGIL_BUS_URL": "redis://r",
            },
            "VIGIL_BUS_SECRET is required",
        ),
    ],
)
def test_unusable_settings_are_refused_with_the_variable_named(
    env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        Settings.from_env(env)


def test_defaults_are_the_embedded_set_up() -> None:
    settings = Settings.from_env({})
    checkout_var = Path(__file__).resolve().parents[2] / "var"  # whatever the working folder
    assert settings.data_dir == str(checkout_var)
    assert settings.store_url == f"duckdb:///{checkout_var}/vigil.duckdb"
    assert settings.secret_file == str(checkout_var / "secret.key")
    assert settings.bus_url == "memory://" and not settings.production


def test_every_setting_is_documented() -> None:
    from dataclasses import fields

    documented = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    missing = [f.name for f in fields(Settings) if f"VIGIL_{f.name.upper()}" not in documented]
    assert missing == []


def test_the_data_dir_holds_the_store_and_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"VIGIL_DATA_DIR": "data"})
    assert settings.store_url == f"duckdb:///{tmp_path}/data/vigil.duckdb"
    assert settings.secret_file == f"{tmp_path}/data/secret.key"
    explicit = Settings.from_env({"VIGIL_DATA_DIR": "data", "VIGIL_SECRET_FILE": "/k"})
    assert explicit.secret_file == "/k"


def test_vigil_retention_is_for_mongodb_and_bounded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.cli import main

    monkeypatch.setenv("VIGIL_STORE_URL", "duckdb:///var/x.duckdb")
    assert main(["retention", "90"]) == 2
    assert "VIGIL_RETENTION_DAYS is the ceiling of raw points" in capsys.readouterr().err
    monkeypatch.setenv("VIGIL_STORE_URL", "mongodb://127.0.0.1:1/vigil")
    assert main(["retention", "20800"]) == 2
    assert "the retention must be 1 to 10000 days" in capsys.readouterr().err
