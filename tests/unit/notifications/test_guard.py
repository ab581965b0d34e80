"""The SSRF guard on its own: what is refused, and what the development setting allows."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from infra.config import ConfigError, Settings
from infra.notifications.guard import TargetGuard

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/",
    "http://localhost/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[::127.0.0.1]/",
    "http://[::a9fe:a9fe]/",
    "http://[::8.8.8.8]/",
    "http://[64:ff9b:1::a9fe:a9fe]/",
    "http://[64:ff9b:1:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://224.0.0.1/",
    "gopher://8.8.8.8/",
    "file:///etc/passwd",
    "http://u:p@8.8.8.8/",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_refused_without_the_development_setting(url: str) -> None:
    with pytest.raises(BadUserInput):
        await TargetGuard().check(url)


async def test_global_addresses_pass_and_are_what_is_connected_to() -> None:
    assert [str(a) for a in await TargetGuard().resolve("https://8.8.8.8:8443/x")] == ["8.8.8.8"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://localhost/", "http://[::1]/"])
async def test_the_development_setting_allows_loopback_only(url: str) -> None:
    guard = TargetGuard(allow_loopback=True)
    await guard.check(url)
    with pytest.raises(BadUserInput):
        await guard.check("http://10.0.0.1/")
    with pytest.raises(BadUserInput):
        await guard.check("http://169.254.169.254/")


def test_the_development_setting_is_off_by_default_and_refused_in_production() -> None:
    assert not Settings.from_env({}).notify_allow_loopback
    assert not Settings.from_env({"VIGIL_NOTIFY_ALLOW_LOOPBACK": "false"}).notify_allow_loopback
    assert Settings.from_env({"VIGIL_NOTIFY_ALLOW_LOOPBACK": "true"}).notify_allow_loopback
    with pytest.raises(ConfigError, match="development only"):
        Settings.from_env({"VIGIL_MODE": "production", "VIGIL_NOTIFY_ALLOW_LOOPBACK": "1"})
    with pytest.raises(ConfigError, match="not a valid"):
        Settings.from_env({"VIGIL_NOTIFY_ALLOW_LOOPBACK": "maybe"})
