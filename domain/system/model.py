"""The audit chain's rules: how an entry is hashed and linked, and what a checkpoint signs.

Each project's entries form one chain: entry `n` (its `chain_index`, from 1) holds the hash
of entry `n - 1` of the same project (`prev_hash`; GENESIS for the first), and its own
`hash`, SHA-256 over a canonical encoding of everything it says plus its index and
`prev_hash`. Changing, removing or moving one entry breaks the hashes at that point. A
checkpoint is a signed statement "entry n of project p has hash h", written regularly
(Ed25519): a rewritten tail, or a tail cut off, no longer matches the last checkpoint.

The store appends (it alone knows the previous entry at the moment of writing: `link`);
the compliance feature verifies (domain/compliance/verification.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from domain.system.read_models import AuditEntry

__all__ = [
    "CHAIN_VERSION",
    "GENESIS",
    "SECURITY_LOG",
    "Checkpoint",
    "ComponentDegraded",
    "ComponentDown",
    "canonical",
    "entry_hash",
    "json_safe",
    "link",
]

CHAIN_VERSION = "vigil-audit-1"  # names the encoding below: change it and old hashes differ
GENESIS = "0" * 64
# Refusals of callers who hold no role in the project they asked for (and of anonymous
# callers) are kept here, in Vigil's own project, not in the tenant's log.
SECURITY_LOG = "system"


_PLAIN = (str, int, bool, type(None))


def json_safe(value: Any) -> Any:
    """`value` as it reads back from JSON text: what is hashed is what is stored."""
    if not value:
        return value
    if isinstance(value, dict) and all(
        type(k) is str and isinstance(v, _PLAIN) for k, v in value.items()
    ):
        return value  # already what JSON gives back: the usual detail and target
    return json.loads(json.dumps(value, default=str, allow_nan=False))


def canonical(entry: AuditEntry, *, chain_index: int, prev_hash: str) -> bytes:
    """The bytes hashed for an entry: sorted keys, no spaces, UTF-8, no NaN."""
    return _encoded(entry, entry.target, entry.changes, entry.detail, chain_index, prev_hash)


def _encoded(
    entry: AuditEntry,
    target: dict[str, str],
    changes: list[dict[str, Any]],
    detail: dict[str, Any],
    chain_index: int,
    prev_hash: str,
) -> bytes:
    body = {
        "v": CHAIN_VERSION,
        "project": entry.project,
        "n": chain_index,
        "prev": prev_hash,
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": target,
        "changes": changes,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "client": entry.client,
        "ts": entry.timestamp_us,
        "detail": detail,
    }
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_hash(entry: AuditEntry, *, chain_index: int, prev_hash: str) -> str:
    return hashlib.sha256(
        canonical(entry, chain_index=chain_index, prev_hash=prev_hash)
    ).hexdigest()


def link(entry: AuditEntry, previous: tuple[int, str] | None) -> AuditEntry:
    """`entry` as the next of its project's chain; `previous` is (index, hash) of the last
    entry stored, None for the first. Values are made JSON-safe first, so the hash covers
    exactly what the store keeps. On the audit write path: one copy of the entry, one
    encoding (~20-30 us an entry, docs/performance.md)."""
    index, prev = previous if previous is not None else (0, GENESIS)
    target = json_safe(dict(entry.target))
    changes = json_safe(list(entry.changes))
    detail = json_safe(dict(entry.detail))
    digest = hashlib.sha256(_encoded(entry, target, changes, detail, index + 1, prev)).hexdigest()
    return replace(
        entry,
        target=target,
        changes=changes,
        detail=detail,
        chain_index=index + 1,
        prev_hash=prev,
        hash=digest,
    )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of a chain's head: entry `chain_index` of `project` has `hash`."""

    project: str
    chain_index: int
    hash: str
    at_us: int
    key_id: str = ""
    signature: str = ""  # base64 of the Ed25519 signature of `payload()`

    def payload(self) -> bytes:
        body = {
            "v": CHAIN_VERSION,
            "project": self.project,
            "n": self.chain_index,
            "hash": self.hash,
            "at": self.at_us,
            "key": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class ComponentDegraded(Exception):
    """Raised by a health check whose component works, but not as it should."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ComponentDown(Exception):
    """Raised by a health check whose component does not work, with a reason safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
