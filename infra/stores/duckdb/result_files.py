"""Analytics result items as JSON-lines files beside the DuckDB file, not rows in it.

A FORECAST job over 1,000 series (a day's horizon at one minute) returns 132 MB of JSON.
Stored as rows, every automatic checkpoint rewrote the table's growing last row group:
0.3 s, 0.6 s, ... 2.8 s on the single writer, 9-11 s in all, and each one held every
ingest acknowledgement (decision 0037). A file per run costs a sequential write.

`<file>.results/<job>-<attempt>.jsonl` holds one item per line; `.idx` beside it the
byte offset of each line and the end, so a page is one seek and one read. Both are
written under temporary names, synced, then renamed (the index last): a run that dies
half way leaves nothing a reader takes for a result. An in-memory store keeps them in
a dict.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import orjson

from domain.analytics.work import Item, StoredItem
from infra.stores.result_docs import runs

__all__ = ["ResultFiles"]

_OFFSET = "q"  # int64 offsets, native order (the file never leaves this machine)
_SAFE = re.compile(r"[0-9A-Za-z_]+")  # job ids are uuid4 hex: nothing a path could misread


class ResultFiles:
    def __init__(self, folder: Path | None) -> None:
        self._folder = folder
        self._memory: dict[tuple[str, int], list[bytes]] = {}

    async def write(self, job_id: str, attempt: int, items: Sequence[StoredItem]) -> None:
        """Replace the items of this run."""
        if self._folder is None:
            self._memory[(job_id, attempt)] = [item.json for item in items]
            return
        data, index = self._paths(job_id, attempt)
        await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
        offsets = array(_OFFSET, [0])
        partial = data.with_suffix(".jsonl.part")
        out = await asyncio.to_thread(partial.open, "wb")
        try:
            for run in runs(items):
                for doc in run:
                    offsets.append(offsets[-1] + len(doc) + 1)
                await asyncio.to_thread(out.write, b"\n".join(run) + b"\n")
            await asyncio.to_thread(_sync, out)
        finally:
            await asyncio.to_thread(out.close)
        await asyncio.to_thread(index.unlink, missing_ok=True)  # no old index over new lines
        await asyncio.to_thread(_replace, partial, data)
        await asyncio.to_thread(_write_synced, index, offsets.tobytes())

    async def read(self, job_id: str, attempt: int, *, offset: int, limit: int) -> list[Item]:
        if self._folder is None:
            docs = self._memory.get((job_id, attempt), [])
            return [orjson.loads(doc) for doc in docs[offset : offset + limit]]
        return await asyncio.to_thread(self._read, job_id, attempt, offset, limit)

    async def drop(self, job_id: str, *, keep: int | None = None) -> None:
        """Every run's items of the job but `keep`'s."""
        if self._folder is None:
            for key in [k for k in self._memory if k[0] == job_id and k[1] != keep]:
                del self._memory[key]
            return
        await asyncio.to_thread(self._drop, [job_id], keep)

    async def drop_jobs(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if self._folder is None:
            for key in [k for k in self._memory if k[0] in ids]:
                del self._memory[key]
        elif ids:
            await asyncio.to_thread(self._drop, ids, None)

    def _paths(self, job_id: str, attempt: int) -> tuple[Path, Path]:
        assert self._folder is not None
        if not _SAFE.fullmatch(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        stem = self._folder / f"{job_id}-{attempt}"
        return stem.with_suffix(".jsonl"), stem.with_suffix(".idx")

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
        assert self._folder is not None
        if not self._folder.exists():
            return
        for job_id in job_ids:
            for path in self._folder.glob(f"{job_id}-*"):
                attempt = path.name[len(job_id) + 1 :].split(".", 1)[0]
                if attempt.isdigit() and int(attempt) != keep:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


def _sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _replace(source: Path, target: Path) -> None:
    os.replace(source, target)


def _write_synced(path: Path, data: bytes) -> None:
    partial = path.with_suffix(".idx.part")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
