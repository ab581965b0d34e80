"""Analytics result items as JSON-lines files beside the DuckDB file, not rows in it.

A FORECAST job over 1,000 series (a day's horizon at one minute) returns 132 MB of JSON.
Stored as rows, every automatic checkpoint rewrote the table's growing last row group:
0.3 s, 0.6 s, ... 2.8 s on the single writer, 9-11 s in all, and each one held every
ingest acknowledgement (decision 0037). A file per run costs a sequential write.

`<file>.results/<job>-<attempt>.jsonl` holds one item per line; `.idx` beside it the
byte offset of each line and the end, so a page is one seek and one read. Both are
written under temporary names, synced, then renamed (the index last): a run that dies
half way leaves nothing a reader takes for a result. An in-memory store keeps them in a
temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import weakref
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from domain.analytics.work import Item, StoredItem

__all__ = ["ResultFiles"]

_OFFSET = "q"  # int64 offsets, native order (the file never leaves this machine)
_SAFE = re.compile(r"[0-9A-Za-z_]+")  # job ids are uuid4 hex: nothing a path could misread


class ResultFiles:
    """The result files of one store; `folder` None (an in-memory store): a temporary
    folder, removed when this object goes."""

    def __init__(self, folder: Path | None) -> None:
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="vigil-results-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self._folder = folder

    async def write(self, job_id: str, attempt: int, items: Sequence[StoredItem]) -> None:
        """Replace the items of this run (on a thread: the writes and syncs block)."""
        await asyncio.to_thread(self._write, job_id, attempt, items)

    async def read(self, job_id: str, attempt: int, *, offset: int, limit: int) -> list[Item]:
        return await asyncio.to_thread(self._read, job_id, attempt, offset, limit)

    async def drop(self, job_id: str, *, keep: int | None = None) -> None:
        """Every run's items of the job but `keep`'s."""
        await asyncio.to_thread(self._drop, [job_id], keep)

    async def drop_jobs(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if ids:
            await asyncio.to_thread(self._drop, ids, None)

    def _paths(self, job_id: str, attempt: int) -> tuple[Path, Path]:
        if not _SAFE.fullmatch(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        stem = self._folder / f"{job_id}-{attempt}"
        return stem.with_suffix(".jsonl"), stem.with_suffix(".idx")

    def _write(self, job_id: str, attempt: int, items: Sequence[StoredItem]) -> None:
        data, index = self._paths(job_id, attempt)
        self._folder.mkdir(parents=True, exist_ok=True)
        offsets = array(_OFFSET, [0])
        for item in items:
            offsets.append(offsets[-1] + len(item.json) + 1)
        index.unlink(missing_ok=True)  # no old index over new lines
        _write_synced(data, (part for item in items for part in (item.json, b"\n")))
        _write_synced(index, [offsets.tobytes()])

    def _read(self, job_id: str, attempt: int, offset: int, limit: int) -> list[Item]:
        data, index = self._paths(job_id, attempt)
        try:
            with open(index, "rb") as f:
                f.seek(offset * 8)
                offsets = array(_OFFSET)
                offsets.frombytes(f.read((limit + 1) * 8))
            if len(offsets) < 2:
                return []
            with open(data, "rb") as f:
                f.seek(offsets[0])
                text = f.read(offsets[-1] - offsets[0])
        except FileNotFoundError:
            return []
        return [orjson.loads(line) for line in text.splitlines()]

    def _drop(self, job_ids: list[str], keep: int | None) -> None:
        if not self._folder.exists():
            return
        for job_id in job_ids:
            for path in self._folder.glob(f"{job_id}-*"):
                attempt = path.name[len(job_id) + 1 :].split(".", 1)[0]
                if attempt.isdigit() and int(attempt) != keep:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


def _write_synced(path: Path, parts: Iterable[bytes]) -> None:
    """`parts` into `path` whole or not at all: a temporary name, synced, renamed, and the
    rename synced."""
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as out:
        out.writelines(parts)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
