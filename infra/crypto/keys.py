"""Encryption keys with versions: from a setting, or from a key file Vigil creates and rotates.

A key file holds one key per line, `<version>:<base64 of 32 random bytes>`; the highest
version is the one new secrets are sealed with, the others still open what they sealed.
`VIGIL_ENCRYPTION_KEYS` gives the same text inline (lines or commas), for deployments that
inject secrets; then Vigil never writes keys, and rotating means adding a higher version
there and restarting. The file is created on first use (mode 0600), beside the token
secret, so that a copy of the store alone holds no key.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KEY_BYTES", "Keyring", "KeyringError", "write_private_file"]

logger = logging.getLogger("vigil.crypto")

KEY_BYTES = 32  # AES-256


class KeyringError(ValueError):
    """A key setting or key file that cannot be used; the message says what to fix."""


@dataclass(slots=True)
class Keyring:
    keys: dict[int, bytes]
    path: Path | None = None  # the key file, when the keys come from one
    _mtime: float = field(default=0.0, repr=False)

    @property
    def current(self) -> int:
        return max(self.keys)

    @classmethod
    def inline(cls, text: str) -> Keyring:
        keys = _parse(text.replace(",", "\n"), "VIGIL_ENCRYPTION_KEYS")
        if not keys:
            raise KeyringError("VIGIL_ENCRYPTION_KEYS holds no key")
        return cls(keys)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, create: bool = True) -> Keyring:
        """The keys of `path`, creating it with one new key (version 1) if it is missing."""
        target = Path(path)
        if not target.exists():
            if not create:
                raise KeyringError(f"the key file {target} does not exist")
            write_private_file(target, f"1:{_new_key()}\n", replace=False)
            logger.info("created the encryption key file %s (key version 1)", target)
        ring = cls({}, target)
        ring.reload()
        return ring

    def reload(self) -> bool:
        """Read the key file again if it changed (another process rotated); True if it did."""
        if self.path is None:
            return False
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime and self.keys:
            return False
        if self.path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("key file %s is readable by other users; run chmod 600 on it", self.path)
        keys = _parse(self.path.read_text(encoding="ascii"), str(self.path))
        if not keys:
            raise KeyringError(f"the key file {self.path} holds no key")
        self.keys, self._mtime = keys, mtime
        return True

    def add_version(self) -> int:
        """A new key, one version above the highest, written to the key file: the version
        new secrets are sealed with from now on."""
        if self.path is None:
            raise KeyringError(
                "the keys come from VIGIL_ENCRYPTION_KEYS: add a higher version there"
                " (and restart every instance), then run `vigil rotate-key --reencrypt-only`"
            )
        self.reload()
        version = self.current + 1
        text = "".join(
            f"{v}:{base64.b64encode(k).decode()}\n" for v, k in sorted(self.keys.items())
        )
        write_private_file(self.path, text + f"{version}:{_new_key()}\n", replace=True)
        self.reload()
        return version

    def drop_versions_below(self, version: int) -> list[int]:
        """Forget keys older than `version` (once nothing is sealed with them)."""
        if self.path is None:
            raise KeyringError("the keys come from VIGIL_ENCRYPTION_KEYS: remove them there")
        dropped = sorted(v for v in self.keys if v < version)
        kept = {v: k for v, k in self.keys.items() if v >= version}
        text = "".join(f"{v}:{base64.b64encode(k).decode()}\n" for v, k in sorted(kept.items()))
        write_private_file(self.path, text, replace=True)
        self.reload()
        return dropped


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _parse(text: str, where: str) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        version, sep, encoded = line.partition(":")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
            if not sep or int(version) < 1 or len(key) != KEY_BYTES:
                raise ValueError
        except ValueError:
            raise KeyringError(
                f"{where}: entry {number} must be <version>:<base64 of {KEY_BYTES} bytes>"
                " with a version of 1 or more"
            ) from None
        keys[int(version)] = key
    return keys


def write_private_file(path: Path, text: str, *, replace: bool) -> None:
    """Write `text` to `path`, readable by this user only, atomically. Without `replace`,
    a file that appeared meanwhile (another process) is kept."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
            return
        try:
            os.link(temporary, path)
        except FileExistsError:
            logger.debug("another process created %s first: using theirs", path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
