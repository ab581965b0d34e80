"""Ed25519 signatures of the audit checkpoints (the AuditSigner port).

The private key is a PEM file (PKCS#8, mode 0600) beside the token secret, created on
first use; instances that share a store share the file, as they share the secret. A key's
id is the start of the SHA-256 of its public key. Checkpoints signed by a key retired
since stay verifiable if its public key is listed in VIGIL_AUDIT_TRUSTED_KEYS.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infra.crypto.keys import KeyringError, write_private_file

__all__ = ["Ed25519Signer", "key_id_of"]

logger = logging.getLogger("vigil.crypto")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    return "ed25519:" + hashlib.sha256(_raw(public)).hexdigest()[:16]


class Ed25519Signer:
    def __init__(
        self, private: Ed25519PrivateKey, trusted: Sequence[Ed25519PublicKey] = ()
    ) -> None:
        self._private = private
        own = private.public_key()
        self._key_id = key_id_of(own)
        self._trusted = {key_id_of(k): k for k in (own, *trusted)}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], trusted: str = "") -> Ed25519Signer:
        """The key of `path` (created if missing), trusting also the base64 raw public keys
        listed in `trusted` (commas)."""
        target = Path(path)
        if not target.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_private_file(target, pem.decode(), replace=False)
            logger.info("created the audit signing key %s", target)
        if target.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("audit signing key %s is readable by other users; chmod 600", target)
        private = serialization.load_pem_private_key(target.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyringError(f"{target} does not hold an Ed25519 private key")
        return cls(private, _public_keys(trusted))

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_key(self) -> str:
        """This instance's public key (base64 raw), for VIGIL_AUDIT_TRUSTED_KEYS elsewhere."""
        return base64.b64encode(_raw(self._private.public_key())).decode()

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._private.sign(payload)).decode()

    def knows(self, key_id: str) -> bool:
        return key_id in self._trusted

    def verify(self, key_id: str, payload: bytes, signature: str) -> bool:
        key = self._trusted.get(key_id)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature, validate=True), payload)
        except (InvalidSignature, ValueError):
            return False
        return True


def _public_keys(text: str) -> list[Ed25519PublicKey]:
    keys = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(item, validate=True)))
        except ValueError:
            raise KeyringError(
                "VIGIL_AUDIT_TRUSTED_KEYS must list base64 Ed25519 public keys (32 bytes)"
            ) from None
    return keys
