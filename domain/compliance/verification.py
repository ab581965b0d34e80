"""Walking an audit chain: recompute each hash, follow each link, check each checkpoint.

The walk stops at the first break and names it: the chain index where it is, the entry's
`seq`, and what kind of break it is:

- EDITED: the entry does not match its own hash (changed after it was written);
- MOVED: the entry matches its hash at another index (entries were reordered);
- LINK: the entry matches its hash but names another predecessor (the entry before it was
  replaced, hash and all);
- MISSING: indexes are skipped (entries were deleted);
- DUPLICATE: two entries hold one index (an entry was inserted);
- CHECKPOINT: a signed checkpoint names another hash for that index (the chain was
  rewritten from there on);
- TRUNCATED: a checkpoint names an index past the last entry (the tail was cut off);
- SIGNATURE: a checkpoint's signature is not valid under the key it names, or the key is
  not one this instance trusts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from domain.compliance.ports import AuditSigner
from domain.system.model import Checkpoint, entry_hash
from domain.system.read_models import AuditEntry

__all__ = ["BreakKind", "ChainBreak", "ChainWalk"]

MOVE_SEARCH = 64  # how far from its place a moved entry is looked for


class BreakKind(StrEnum):
    EDITED = "edited"
    MOVED = "moved"
    LINK = "link"
    MISSING = "missing"
    DUPLICATE = "duplicate"
    CHECKPOINT = "checkpoint"
    TRUNCATED = "truncated"
    SIGNATURE = "signature"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    kind: BreakKind
    chain_index: int
    seq: int
    detail: str


@dataclass(slots=True)
class ChainWalk:
    """Feed it entries in chain order (`walk`), then `finish` with the head of the chain.

    `anchor` is (index, hash) of the entry before the first one fed, trusted as the start
    (GENESIS before index 1). `checkpoints` are the project's, any order."""

    anchor: tuple[int, str]
    checkpoints: Iterable[Checkpoint]
    signer: AuditSigner
    entries: int = 0
    last_index: int = 0
    last_seq: int = 0
    first_break: ChainBreak | None = None
    verified_checkpoints: int = 0
    _expected_prev: str = ""
    _pending: dict[int, Checkpoint] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.last_index, self._expected_prev = self.anchor
        for cp in sorted(self.checkpoints, key=lambda c: c.chain_index):
            if cp.chain_index > self.last_index and self._signed(cp):
                self._pending[cp.chain_index] = cp

    @property
    def last_hash(self) -> str:
        """The hash of the last entry that verified (the anchor's before any)."""
        return self._expected_prev

    @property
    def broken(self) -> bool:
        return self.first_break is not None

    def walk(self, batch: Iterable[AuditEntry]) -> bool:
        """Check each entry; False once the first break is known (stop feeding)."""
        for entry in batch:
            if not self._open():
                return False
            self._check(entry)
        return self._open()

    def _open(self) -> bool:
        """Entries may still hold a break before the one known (a bad checkpoint found
        first names a later index than a deleted entry, say)."""
        return self.first_break is None or self.last_index + 1 < self.first_break.chain_index

    def finish(self, head_index: int, *, walked_to_head: bool) -> None:
        """After the last entry: checkpoints past the head mean a cut tail."""
        if not self._open():
            return
        beyond = [cp for i, cp in self._pending.items() if i > head_index]
        if beyond:
            cp = min(beyond, key=lambda c: c.chain_index)
            self._break(
                BreakKind.TRUNCATED,
                head_index + 1,
                f"a checkpoint signed at {cp.at_us} covers entries up to {cp.chain_index};"
                f" the log ends at {head_index}: entries were removed from its end",
            )
        elif walked_to_head and self.last_index < head_index:
            self._break(
                BreakKind.MISSING,
                self.last_index + 1,
                f"the chain stops at {self.last_index} but its head is {head_index}",
            )

    def _check(self, entry: AuditEntry) -> None:
        index = entry.chain_index
        expected = self.last_index + 1
        if index < expected:
            self._break(
                BreakKind.DUPLICATE,
                index,
                f"a second entry holds index {index} (seq {entry.seq}): an entry was inserted",
                entry.seq,
            )
            return
        if index > expected:
            gap = f"{expected}" if index == expected + 1 else f"{expected} to {index - 1}"
            self._break(
                BreakKind.MISSING,
                expected,
                f"entries {gap} are missing (after seq {self.last_seq}, before seq"
                f" {entry.seq}): they were deleted",
                entry.seq,
            )
            return
        recomputed = entry_hash(entry, chain_index=index, prev_hash=entry.prev_hash)
        if recomputed != entry.hash:
            moved_from = self._moved_from(entry)
            if moved_from is not None:
                self._break(
                    BreakKind.MOVED,
                    index,
                    f"the entry at index {index} (seq {entry.seq}) was written at index"
                    f" {moved_from}: entries were reordered",
                    entry.seq,
                )
            else:
                self._break(
                    BreakKind.EDITED,
                    index,
                    f"the entry at index {index} (seq {entry.seq}) does not match its hash:"
                    " it was changed after it was written",
                    entry.seq,
                )
            return
        if entry.prev_hash != self._expected_prev:
            self._break(
                BreakKind.LINK,
                index,
                f"the entry at index {index} (seq {entry.seq}) does not follow entry"
                f" {index - 1}: that entry was replaced",
                entry.seq,
            )
            return
        checkpoint = self._pending.pop(index, None)
        if checkpoint is not None:
            if checkpoint.hash != entry.hash:
                self._break(
                    BreakKind.CHECKPOINT,
                    index,
                    f"the checkpoint signed at {checkpoint.at_us} names another hash for"
                    f" index {index}: the chain was rewritten from here on",
                    entry.seq,
                )
                return
            self.verified_checkpoints += 1
        self.entries += 1
        self.last_index, self.last_seq, self._expected_prev = index, entry.seq, entry.hash

    def _moved_from(self, entry: AuditEntry) -> int | None:
        low = max(1, entry.chain_index - MOVE_SEARCH)
        for index in range(low, entry.chain_index + MOVE_SEARCH + 1):
            if index != entry.chain_index and entry.hash == entry_hash(
                entry, chain_index=index, prev_hash=entry.prev_hash
            ):
                return index
        return None

    def _signed(self, cp: Checkpoint) -> bool:
        if not self.signer.knows(cp.key_id):
            self._break(
                BreakKind.SIGNATURE,
                cp.chain_index,
                f"the checkpoint of index {cp.chain_index} is signed by key {cp.key_id!r},"
                " which this instance does not trust",
            )
            return False
        if not self.signer.verify(cp.key_id, cp.payload(), cp.signature):
            self._break(
                BreakKind.SIGNATURE,
                cp.chain_index,
                f"the checkpoint of index {cp.chain_index} has an invalid signature",
            )
            return False
        return True

    def _break(self, kind: BreakKind, index: int, detail: str, seq: int = 0) -> None:
        if self.first_break is None or index < self.first_break.chain_index:
            self.first_break = ChainBreak(kind, index, seq, detail)
