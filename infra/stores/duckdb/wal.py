"""Start-up with a damaged write-ahead log: set it aside, replay the good part.

DuckDB refuses to open a database whose log fails a checksum in the middle ("Failure
while replaying WAL file ..."). Vigil moves the log aside (`vigil.duckdb.wal.corrupt-<UTC
time>`, kept for the operator), then gives DuckDB the longest prefix of it that DuckDB
replays: the position DuckDB names ("entry at byte position N"), else found by bisection
with read-only opens, which replay the log without writing anything. DuckDB ignores an
incomplete last entry (a torn write), so a prefix ending anywhere before the damage
replays every transaction committed before it; what follows the damage is lost. What
DuckDB does not detect (docs/decisions/0023-store-faults.md) cannot be caught here.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import duckdb

__all__ = ["is_wal_failure", "salvage_wal"]

logger = logging.getLogger("vigil.store")

_WAL_FAILURE = "Failure while replaying WAL file"
_POSITION = re.compile(r"entry at byte position (\d+)")


def is_wal_failure(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and _WAL_FAILURE in str(exc)


def salvage_wal(path: str, failure: BaseException) -> str:
    """Set the log of the database at `path` aside and put back its longest replayable
    prefix; returns what happened, for health and the log."""
    wal = Path(f"{path}.wal")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = wal.with_name(f"{wal.name}.corrupt-{stamp}")
    os.replace(wal, aside)
    data = aside.read_bytes()
    named = _POSITION.search(str(failure))
    good = _replayable(path, wal, data, int(named.group(1)) if named else len(data))
    _put_back(wal, data[:good])
    reason = str(failure).split(": ", 1)[-1].splitlines()[0][:200]
    text = (
        f"the store's log was damaged ({reason}); set aside as {aside.name}; replayed its "
        f"first {good} of {len(data)} bytes, transactions logged after byte {good} are lost"
    )
    logger.critical("STORE LOG CORRUPT: %s", text)
    return text


def _replayable(path: str, wal: Path, data: bytes, bad_from: int) -> int:
    """The longest prefix length, at most `bad_from`, whose log DuckDB replays."""
    if _replays(path, wal, data[:bad_from]):
        return bad_from
    good, bad = 0, bad_from  # invariant: prefix `good` replays (empty log), `bad` does not
    while bad - good > 1:
        middle = (good + bad) // 2
        if _replays(path, wal, data[:middle]):
            good = middle
        else:
            bad = middle
    return good


def _replays(path: str, wal: Path, prefix: bytes) -> bool:
    _put_back(wal, prefix)
    try:
        duckdb.connect(path, read_only=True).close()
    except duckdb.Error as exc:
        if not is_wal_failure(exc):
            raise
        return False
    return True


def _put_back(wal: Path, prefix: bytes) -> None:
    if prefix:
        wal.write_bytes(prefix)
    else:
        wal.unlink(missing_ok=True)
