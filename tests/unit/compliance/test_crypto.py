"""Secrets at rest and checkpoint signatures, with `cryptography` (AES-256-GCM, Ed25519)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.crypto import Ed25519Signer, Keyring, KeyringError, SecretCipher, SecretUnreadable


def test_a_sealed_secret_opens_only_in_its_place_and_untouched(tmp_path: Path) -> None:
    cipher = SecretCipher(Keyring.from_file(tmp_path / "e.keys"))
    sealed = cipher.seal("hunter2", context="demo/c1/secret")

    assert sealed.startswith("vigil:sealed:1:") and "hunter2" not in sealed
    assert cipher.open(sealed, context="demo/c1/secret") == "hunter2"
    with pytest.raises(SecretUnreadable):
        cipher.open(sealed, context="demo/c2/secret")  # copied to another channel
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(SecretUnreadable):
        cipher.open(flipped, context="demo/c1/secret")
    assert cipher.open("plain", context="demo/c1/secret") == "plain"  # stored before sealing
    assert cipher.seal("", context="x") == ""


def test_the_key_file_is_private_and_rotation_keeps_old_secrets_readable(tmp_path: Path) -> None:
    ring = Keyring.from_file(tmp_path / "e.keys")
    assert stat.S_IMODE((tmp_path / "e.keys").stat().st_mode) == 0o600
    cipher = SecretCipher(ring)
    old = cipher.seal("s", context="p/c/secret")

    assert ring.add_version() == 2
    resealed = cipher.reseal(old, context="p/c/secret")
    assert resealed is not None and SecretCipher.version_of(resealed) == 2
    assert cipher.open(old, context="p/c/secret") == "s"  # version 1 still known
    assert cipher.reseal(resealed, context="p/c/secret") is None  # already current

    assert ring.drop_versions_below(2) == [1]
    with pytest.raises(SecretUnreadable, match="key version '1'"):
        cipher.open(old, context="p/c/secret")


def test_another_process_rotating_the_file_is_seen(tmp_path: Path) -> None:
    mine = SecretCipher(Keyring.from_file(tmp_path / "e.keys"))
    theirs = SecretCipher(Keyring.from_file(tmp_path / "e.keys"))
    theirs.keyring.add_version()
    sealed = theirs.seal("s", context="p/c/secret")
    assert mine.open(sealed, context="p/c/secret") == "s"  # re-read on the unknown version


def test_inline_keys_are_checked() -> None:
    key = "A" * 43 + "="
    ring = Keyring.inline(f"1:{key},3:{key}")
    assert ring.current == 3
    with pytest.raises(KeyringError, match="entry 1"):
        Keyring.inline("1:short")
    with pytest.raises(KeyringError, match="VIGIL_ENCRYPTION_KEYS"):
        ring.add_version()


def test_checkpoint_signatures_verify_under_trusted_keys_only(tmp_path: Path) -> None:
    old = Ed25519Signer.from_file(tmp_path / "old.key")
    new = Ed25519Signer.from_file(tmp_path / "new.key", old.public_key)
    stranger = Ed25519Signer.from_file(tmp_path / "x.key")
    signature = old.sign(b"payload")

    assert new.knows(old.key_id) and new.verify(old.key_id, b"payload", signature)
    assert not new.verify(old.key_id, b"payload!", signature)
    assert not new.knows(stranger.key_id)
    assert not new.verify(stranger.key_id, b"payload", stranger.sign(b"payload"))
    assert Ed25519Signer.from_file(tmp_path / "old.key").key_id == old.key_id  # kept
