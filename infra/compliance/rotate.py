"""`vigil rotate-key`: a new encryption key version, and every stored secret sealed with it.

With a key file (the default), a new version is added to it and becomes current; then
every notification secret in the store is sealed again under it (secrets stored before
encryption existed are sealed too); `drop_old` then removes the older versions from the
file. With VIGIL_ENCRYPTION_KEYS the operator adds the version there; this re-seals only.
Instances sharing the key file read it again when they meet a version they lack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.bootstrap.adapters import open_store
from infra.config import Settings
from infra.crypto import Keyring, SecretCipher

__all__ = ["Rotation", "rotate_key"]


@dataclass(frozen=True, slots=True)
class Rotation:
    previous_version: int
    current_version: int
    resealed: int
    dropped: list[int]


def keyring_of(settings: Settings) -> Keyring:
    if settings.encryption_keys:
        return Keyring.inline(settings.encryption_keys)
    return Keyring.from_file(
        settings.beside_secret(settings.encryption_key_file, "encryption.keys")
    )


async def rotate_key(
    settings: Settings, *, new_key: bool = True, drop_old: bool = False, database: Any = None
) -> Rotation:
    """Rotate; `database`: a store already open (else the one of `settings.store_url`)."""
    keyring = keyring_of(settings)
    previous = keyring.current
    if new_key:
        keyring.add_version()
    cipher = SecretCipher(keyring)
    if database is not None:
        resealed = await _reseal(database, cipher)
    else:
        async with open_store(settings.store_url) as opened:
            resealed = await _reseal(opened, cipher)
    dropped = keyring.drop_versions_below(keyring.current) if drop_old else []
    return Rotation(previous, keyring.current, resealed, dropped)


async def _reseal(database: Any, cipher: SecretCipher) -> int:
    store = database.notifications
    store.use_cipher(cipher)
    resealed: int = await store.reseal_all()
    return resealed
