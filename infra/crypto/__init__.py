"""Cryptography with `cryptography`: secrets at rest (AES-256-GCM, versioned keys) and the
audit checkpoints' signatures (Ed25519)."""

from infra.crypto.cipher import SEALED_PREFIX, SecretCipher, SecretUnreadable
from infra.crypto.keys import Keyring, KeyringError, write_private_file
from infra.crypto.signing import Ed25519Signer

__all__ = [
    "SEALED_PREFIX",
    "Ed25519Signer",
    "Keyring",
    "KeyringError",
    "SecretCipher",
    "SecretUnreadable",
    "write_private_file",
]
