"""Notification secrets sealed at rest, the same way in every store.

A channel's `secret` (the webhook's HMAC key, the SMTP password), the `previous_secret` a
webhook key rotation replaced (still signing during the overlap), and a Slack channel's
`url` (the URL is the credential) are sealed (infra/crypto) before a store writes the
channel and opened after it reads it: the stored document never holds them in plain text,
and a copy of the store without the key file reveals none. Stores written before
encryption hold plain values: they open as they are, and `reseal` (at every start and by
`vigil rotate-key`) seals them.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from domain.compliance.model import SecretsStatus
from infra.crypto import SecretCipher, SecretUnreadable

__all__ = ["open_channel", "reseal_channel", "seal_channel", "secret_fields", "status_of"]

logger = logging.getLogger("vigil.crypto")


def secret_fields(doc: dict[str, Any]) -> tuple[str, ...]:
    keys = ("secret", "previous_secret")
    return (*keys, "url") if doc.get("kind") == "slack" else keys


def _context(doc: dict[str, Any], name: str) -> str:
    return f"{doc['project']}/{doc['id']}/{name}"


def seal_channel(cipher: SecretCipher | None, doc: dict[str, Any]) -> dict[str, Any]:
    """The channel document to store: its secrets sealed (as given without a cipher)."""
    if cipher is None:
        return doc
    sealed = dict(doc)
    for name in secret_fields(doc):
        value = sealed.get(name) or ""
        if value and not cipher.is_sealed(value):
            sealed[name] = cipher.seal(value, context=_context(doc, name))
    return sealed


def open_channel(cipher: SecretCipher | None, doc: dict[str, Any]) -> dict[str, Any]:
    """The stored document with its secrets opened (SecretUnreadable without their key)."""
    if cipher is None:
        return doc
    opened = dict(doc)
    for name in secret_fields(doc):
        value = opened.get(name) or ""
        if value:
            opened[name] = cipher.open(value, context=_context(doc, name))
    return opened


def reseal_channel(cipher: SecretCipher, doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The stored document with every secret sealed under the current key, and how many
    secrets that changed (0: store nothing)."""
    changed = 0
    resealed = dict(doc)
    for name in secret_fields(doc):
        value = resealed.get(name) or ""
        try:
            again = cipher.reseal(value, context=_context(doc, name)) if value else None
        except SecretUnreadable as exc:  # its key is gone: left as it is, said once here
            logger.warning("channel %s: the %s cannot be resealed: %s", doc.get("id"), name, exc)
            continue
        if again is not None:
            resealed[name] = again
            changed += 1
    return resealed, changed


def status_of(cipher: SecretCipher | None, docs: list[dict[str, Any]]) -> SecretsStatus:
    """How the stored documents keep their secrets, by key version."""
    versions: Counter[str] = Counter()
    plaintext = 0
    for doc in docs:
        for name in secret_fields(doc):
            value = doc.get(name) or ""
            if not value:
                continue
            version = SecretCipher.version_of(value)
            if version is None:
                plaintext += 1
            else:
                versions[str(version)] += 1
    current = str(cipher.current_version) if cipher is not None else ""
    return SecretsStatus(sum(versions.values()), plaintext, dict(versions), current)
