"""What DuckDB's failures mean for callers, and the store's fault state that health reports.

Measured on DuckDB 2.0 (docs/decisions/0023-store-faults.md):
- a full disk while writing the log fails the COMMIT ("Could not write file ...: No space
  left on device"); the transaction is rolled back and the database stays usable;
- a full disk during a checkpoint is FATAL: the database is invalidated ("database has
  been invalidated because of a previous fatal error") and answers nothing until it is
  opened again; an automatic checkpoint after a COMMIT says the COMMIT is durable;
- a block whose checksum fails ("Corrupt database file: ... in block at location N")
  fails the statements that read it; the rest of the database keeps working.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb

from domain.errors import DataCorrupted, Unavailable, VigilError
from domain.system.model import ComponentDegraded, ComponentDown
from infra.selfmon import monitor_point

__all__ = [
    "RETRY_AFTER_SECONDS",
    "StoreFaults",
    "commit",
    "committed_but_invalidated",
    "is_corrupt_block",
    "is_invalidated",
    "is_no_space",
]

logger = logging.getLogger("vigil.store")

RETRY_AFTER_SECONDS: Final = 1  # what a refused write tells the client to wait
_NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded|disk is full", re.I)
_INVALIDATED = re.compile(r"database has been invalidated|FATAL Error", re.I)
_DURABLE = "COMMIT succeeded and is durable"
_CORRUPT_BLOCK = re.compile(r"Corrupt database file:.*in block at location (\d+)")
_flag = threading.local()  # set on a thread whose COMMIT was durable but invalidated the db


def is_no_space(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and bool(_NO_SPACE.search(str(exc)))


def is_invalidated(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.FatalException) or (
        isinstance(exc, duckdb.Error) and bool(_INVALIDATED.search(str(exc)))
    )


def is_corrupt_block(exc: BaseException) -> int | None:
    """The byte offset of the damaged block `exc` reports, or None."""
    found = _CORRUPT_BLOCK.search(str(exc)) if isinstance(exc, duckdb.Error) else None
    return int(found.group(1)) if found else None


def commit(cur: duckdb.DuckDBPyConnection) -> None:
    """COMMIT; a COMMIT that DuckDB reports durable before its automatic checkpoint failed
    counts as done (its data is in the log and replays on reopen), and the thread is
    flagged so that the runner reopens the invalidated database."""
    try:
        cur.commit()
    except duckdb.Error as exc:
        if _DURABLE not in str(exc):
            raise
        logger.error("store: a checkpoint failed after a durable commit: %s", exc)
        _flag.durable_fault = str(exc)


def committed_but_invalidated() -> str | None:
    """The fault of this thread's last durable COMMIT whose checkpoint failed, once."""
    fault: str | None = getattr(_flag, "durable_fault", None)
    _flag.durable_fault = None
    return fault


@dataclass(slots=True)
class StoreFaults:
    """What went wrong with the store, for health, self-monitoring and errors."""

    invalidated: str = ""  # the fatal error, while the database waits to be reopened
    invalidated_at: float = 0.0  # monotonic
    write_fault: str = ""  # the last write failed for lack of space (cleared by a success)
    reopens: int = 0
    reopen_failures: int = 0
    last_reopen_seconds: float = 0.0
    corruption: dict[str, int] = field(default_factory=dict)  # kind -> times seen
    corrupt_blocks: set[int] = field(default_factory=set)
    wal_salvage: str = ""  # what start-up did with a damaged log
    path: str = ""  # the store file: logs set aside beside it are reported until deleted

    def note_corruption(self, kind: str) -> None:
        self.corruption[kind] = self.corruption.get(kind, 0) + 1

    def translate(self, exc: BaseException) -> BaseException:
        """The error a caller sees for `exc`, noting the fault; unknown errors pass."""
        if isinstance(exc, VigilError) or not isinstance(exc, duckdb.Error):
            return exc
        if isinstance(exc, duckdb.OutOfMemoryException):  # past VIGIL_STORE_MEMORY_LIMIT_MB
            logger.warning("store: a call needed more than DuckDB's memory limit: %s", exc)
            return Unavailable(
                "the store ran out of memory for this request: nothing was changed; ask for "
                "a shorter range or fewer series, or retry later",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
        if is_no_space(exc) and not is_invalidated(exc):
            self.write_fault = f"a write failed: the store's disk is full ({_clock()})"
            return _disk_full()
        if is_invalidated(exc):
            self.mark_invalidated(str(exc))
            return self.unavailable()
        block = is_corrupt_block(exc)
        if block is not None:
            if block not in self.corrupt_blocks:
                self.corrupt_blocks.add(block)
                self.note_corruption("block")
                logger.error("STORE CORRUPT: block at byte %d of the store file: %s", block, exc)
            return DataCorrupted(
                f"this read touches a damaged part of the store (block at byte {block}); "
                "it cannot be answered until the store is restored (see /readyz)",
                block=block,
            )
        return exc

    def mark_invalidated(self, reason: str) -> None:
        if not self.invalidated:
            logger.error("store: DuckDB invalidated the database, reopening it: %s", reason)
            self.invalidated, self.invalidated_at = reason, time.monotonic()
        if _NO_SPACE.search(reason):
            # Reopening does not free the disk: writes stay refused until one succeeds.
            self.write_fault = f"a checkpoint failed: the store's disk is full ({_clock()})"

    def _cause(self) -> str:
        """The fatal error in words safe to show (DuckDB's name the file's path)."""
        if _NO_SPACE.search(self.invalidated):
            return "its disk was full during a checkpoint"
        return "a fatal error, see the server's log"

    def unavailable(self) -> Unavailable:
        return Unavailable(
            f"the store is being reopened after {self._cause()}; retry later",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )

    def check(self) -> None:
        """Raise what health should report (ComponentDown / ComponentDegraded)."""
        if self.invalidated:
            waited = time.monotonic() - self.invalidated_at
            raise ComponentDown(
                f"the store failed ({self._cause()}) and is being reopened ({waited:.0f} s, "
                f"{self.reopen_failures} attempts failed)"
            )
        troubles = []
        if self.write_fault:
            troubles.append(f"writes refused: {self.write_fault}")
        if self.corrupt_blocks:
            blocks = ", ".join(str(b) for b in sorted(self.corrupt_blocks)[:5])
            troubles.append(f"damaged blocks in the store file at bytes {blocks}")
        if self.wal_salvage:
            troubles.append(self.wal_salvage)
        elif aside := self.logs_set_aside():
            troubles.append(
                f"a damaged log was set aside at an earlier start ({', '.join(aside)}); "
                "transactions logged after the damage were lost: inspect it, then delete it"
            )
        if troubles:
            raise ComponentDegraded("; ".join(troubles))

    def logs_set_aside(self) -> list[str]:
        """The damaged logs beside the store (wal.py names them), newest last."""
        if not self.path or self.path == ":memory:":
            return []
        store = Path(self.path)
        return sorted(p.name for p in store.parent.glob(f"{store.name}.wal.corrupt-*"))

    def seconds_down(self) -> float:
        return time.monotonic() - self.invalidated_at if self.invalidated else 0.0

    def metric_points(self) -> list[dict[str, Any]]:
        """Counters for self-monitoring (vigil.store.*)."""
        points = [monitor_point("vigil.store.reopens_total", self.reopens, "counter", {})]
        points += [
            monitor_point("vigil.store.corruption_total", count, "counter", {"kind": kind})
            for kind, count in sorted(self.corruption.items())
        ]
        return points


def _disk_full() -> Unavailable:
    return Unavailable(
        "the store's disk is full: nothing was stored; retry later",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def _clock() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
