"""Health probes of what Vigil runs on: the disk its store and keys live on."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from domain.system.model import ComponentDegraded, ComponentDown

__all__ = ["DiskProbe"]


class DiskProbe:
    """The `disk` component: degraded under `warn_percent` free, down under `down_percent`."""

    name = "disk"

    def __init__(self, path: str, *, warn_percent: float, down_percent: float) -> None:
        self._path = Path(path)
        self._warn = warn_percent
        self._down = down_percent

    async def check(self) -> str:
        usage = await asyncio.to_thread(shutil.disk_usage, self._existing())
        free = 100.0 * usage.free / usage.total if usage.total else 0.0
        text = f"{free:.1f}% free ({usage.free // 2**20} MiB)"
        if free < self._down:
            raise ComponentDown(f"disk almost full: {text}")
        if free < self._warn:
            raise ComponentDegraded(f"disk filling up: {text}")
        return text

    def _existing(self) -> Path:
        path = self._path.resolve()
        while not path.exists() and path != path.parent:
            path = path.parent
        return path
