"""Fakes of compliance's ports: a signer, an audit store holding a chain, a compliance store."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import replace

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    ComplianceRun,
    Revocation,
    RevocationKind,
)
from domain.system.model import Checkpoint, link
from domain.system.read_models import AuditEntry


class FakeSigner:
    """HMAC in place of Ed25519: the port's behaviour, not its cryptography."""

    def __init__(self, key: bytes = b"k" * 32, key_id: str = "fake:1") -> None:
        self._key = key
        self._id = key_id

    @property
    def key_id(self) -> str:
        return self._id

    def sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def knows(self, key_id: str) -> bool:
        return key_id == self._id

    def verify(self, key_id: str, payload: bytes, signature: str) -> bool:
        return key_id == self._id and hmac.compare_digest(self.sign(payload), signature)


class ChainStore:
    """An AuditStore whose rows a test may edit, delete and reorder, as in a real store."""

    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> AuditEntry:
        mine = [r for r in self.rows if r.project == entry.project]
        head = max(mine, key=lambda r: r.chain_index, default=None)
        linked = link(entry, (head.chain_index, head.hash) if head else None)
        stored = replace(linked, seq=len(self.rows) + 1)
        self.rows.append(stored)
        return stored

    async def list_entries(self, query: object) -> list[AuditEntry]:
        return []

    async def chain(self, project: str, *, after_index: int, first: int) -> list[AuditEntry]:
        mine = [r for r in self.rows if r.project == project and r.chain_index > after_index]
        return sorted(mine, key=lambda r: (r.chain_index, r.seq))[:first]

    async def first_index_at(self, project: str, at_us: int) -> int | None:
        hits = [
            r.chain_index for r in self.rows if r.project == project and r.timestamp_us >= at_us
        ]
        return min(hits) if hits else None

    async def head(self, project: str) -> AuditEntry | None:
        mine = [r for r in self.rows if r.project == project]
        return max(mine, key=lambda r: (r.chain_index, r.seq), default=None)

    async def projects(self) -> list[str]:
        return sorted({r.project for r in self.rows if r.project})


class MemoryComplianceStore:
    def __init__(self) -> None:
        self.saved_checkpoints: list[Checkpoint] = []
        self.usages: dict[tuple[str, str], AccessUsage] = {}
        self.reviews: dict[str, AccessReview] = {}
        self.revoked: list[Revocation] = []
        self.runs: dict[tuple[str, str], tuple[ComplianceRun, int]] = {}

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.saved_checkpoints.append(checkpoint)

    async def checkpoints(self, project: str) -> list[Checkpoint]:
        return sorted(
            (c for c in self.saved_checkpoints if c.project == project),
            key=lambda c: c.chain_index,
        )

    async def latest_checkpoint(self, project: str) -> Checkpoint | None:
        found = await self.checkpoints(project)
        return found[-1] if found else None

    async def record_usage(self, usages: Sequence[AccessUsage]) -> None:
        for u in usages:
            known = self.usages.get((u.project, u.subject))
            self.usages[(u.project, u.subject)] = u if known is None else known.merge(u)

    async def usage(self, project: str) -> list[AccessUsage]:
        return sorted(
            (u for u in self.usages.values() if u.project == project), key=lambda u: u.subject
        )

    async def save_review(self, review: AccessReview, *, expected_version: int | None) -> bool:
        known = self.reviews.get(review.id)
        if (expected_version is None) != (known is None):
            return False
        if known is not None and known.version != expected_version:
            return False
        self.reviews[review.id] = review
        return True

    async def get_review(self, project: str, review_id: str) -> AccessReview | None:
        found = self.reviews.get(review_id)
        return found if found is not None and found.project == project else None

    async def list_reviews(self, project: str, *, first: int) -> list[AccessReview]:
        mine = [r for r in self.reviews.values() if r.project == project]
        return sorted(mine, key=lambda r: r.started_us, reverse=True)[:first]

    async def add_revocation(self, revocation: Revocation) -> bool:
        key = (revocation.project, revocation.kind, revocation.value)
        if any((r.project, r.kind, r.value) == key for r in self.revoked):
            return False
        self.revoked.append(revocation)
        return True

    async def remove_revocation(self, project: str, kind: RevocationKind, value: str) -> bool:
        before = len(self.revoked)
        self.revoked = [
            r for r in self.revoked if (r.project, r.kind, r.value) != (project, kind, value)
        ]
        return len(self.revoked) < before

    async def revocations(self, project: str | None = None) -> list[Revocation]:
        return [r for r in self.revoked if project in (None, r.project)]

    async def claim_run(self, run: ComplianceRun, *, until_us: int) -> bool:
        known = self.runs.get((run.project, run.slot))
        if known is not None and (known[0].finished_us is not None or known[1] > run.started_us):
            return False
        self.runs[(run.project, run.slot)] = (run, until_us)
        return True

    async def finish_run(self, run: ComplianceRun) -> bool:
        known = self.runs.get((run.project, run.slot))
        if known is None or known[0].owner != run.owner or known[0].finished_us is not None:
            return False
        self.runs[(run.project, run.slot)] = (run, known[1])
        return True

    async def list_runs(self, project: str, *, first: int) -> list[ComplianceRun]:
        done = [r for r, _ in self.runs.values() if r.project == project and r.finished_us]
        return sorted(done, key=lambda r: r.finished_us or 0, reverse=True)[:first]
