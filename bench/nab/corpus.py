"""Read the NAB files (`timestamp,value` CSVs and `windows.json`) from where they live."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["ROOT", "Series", "default_dir", "load_corpus"]

ROOT = Path(__file__).resolve().parents[2]
US = 1_000_000


@dataclass(frozen=True, slots=True)
class Series:
    """One NAB file: its points and its labelled windows as inclusive index ranges."""

    name: str  # "<group>/<file>.csv", as windows.json names it
    timestamps_us: tuple[int, ...]
    values: tuple[float, ...]
    windows: tuple[tuple[int, int], ...]

    @property
    def group(self) -> str:
        return self.name.split("/", 1)[0]


def default_dir() -> Path:
    """`VIGIL_NAB_DIR`, else `../shared/data/nab` beside the repository (never copied in)."""
    configured = os.environ.get("VIGIL_NAB_DIR")
    return Path(configured) if configured else ROOT.parent / "shared" / "data" / "nab"


def _us(text: str) -> int:
    # NAB timestamps are UTC without a zone, sometimes with microseconds.
    return int(datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp() * US)


def _index_windows(
    timestamps: tuple[int, ...], windows: list[list[str]]
) -> tuple[tuple[int, int], ...]:
    found = []
    for start_text, end_text in windows:
        start, end = _us(start_text), _us(end_text)
        inside = [i for i, t in enumerate(timestamps) if start <= t <= end]
        if inside:
            found.append((inside[0], inside[-1]))
    return tuple(found)


def load_corpus(directory: Path) -> list[Series]:
    """Every `<group>/<file>.csv` that `windows.json` names, sorted by name."""
    windows: dict[str, list[list[str]]] = json.loads((directory / "windows.json").read_text())
    corpus = []
    for name in sorted(windows):
        path = directory / name
        if not path.is_file():
            continue
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        timestamps = tuple(_us(row[0]) for row in rows)
        values = tuple(float(row[1]) for row in rows)
        corpus.append(Series(name, timestamps, values, _index_windows(timestamps, windows[name])))
    return corpus
