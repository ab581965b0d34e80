"""Secrets at rest: AES-256-GCM under a versioned key, bound to where the secret lives.

A sealed secret is text: `vigil:sealed:<key version>:<base64url(nonce || ciphertext+tag)>`.
The associated data is the secret's place (`<project>/<channel id>/<field>`), so a sealed
value copied to another channel or field does not open. GCM authenticates: a changed byte,
a wrong key or a wrong place raises SecretUnreadable, never yields wrong text.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import Unavailable
from infra.crypto.keys import Keyring

__all__ = ["SEALED_PREFIX", "SecretCipher", "SecretUnreadable"]

SEALED_PREFIX = "vigil:sealed:"
_NONCE = 12


class SecretUnreadable(Unavailable):
    """A sealed secret that cannot be opened: its key is not known here, or it was altered.
    Answered as UNAVAILABLE: the data is there, the key to read it is not."""


class SecretCipher:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    @property
    def current_version(self) -> int:
        return self.keyring.current

    @staticmethod
    def is_sealed(text: str) -> bool:
        return text.startswith(SEALED_PREFIX)

    @staticmethod
    def version_of(text: str) -> int | None:
        if not text.startswith(SEALED_PREFIX):
            return None
        version = text[len(SEALED_PREFIX) :].split(":", 1)[0]
        return int(version) if version.isdigit() else None

    def seal(self, plaintext: str, *, context: str) -> str:
        """`plaintext` sealed under the current key; an empty secret stays empty."""
        if not plaintext:
            return ""
        version = self.keyring.current
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.keyring.keys[version]).encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{SEALED_PREFIX}{version}:{body}"

    def open(self, text: str, *, context: str) -> str:
        """The plaintext of a sealed secret; text that is not sealed is returned as it is
        (a secret stored before encryption, sealed by the next `vigil rotate-key`)."""
        if not self.is_sealed(text):
            return text
        version_text, _, body = text[len(SEALED_PREFIX) :].partition(":")
        version = int(version_text) if version_text.isdigit() else -1
        key = self.keyring.keys.get(version)
        if key is None and self.keyring.reload():  # rotated by another process
            key = self.keyring.keys.get(version)
        if key is None:
            raise SecretUnreadable(
                f"a secret is sealed with key version {version_text!r},"
                " which this instance does not have"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], context.encode())
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                f"a sealed secret does not open with this instance's key version {version}:"
                " sealed with another key, altered, or moved"
            ) from None
        return plain.decode()

    def reseal(self, text: str, *, context: str) -> str | None:
        """`text` sealed under the current key, or None if it already is."""
        if self.version_of(text) == self.current_version or not text:
            return None
        return self.seal(self.open(text, context=context), context=context)
