"""Layout 15 of the MongoDB database: usage analytics' indexes (a frozen copy; usage.py
holds the current ones)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

__all__ = ["USAGE_LAYOUT"]

USAGE_LAYOUT: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "usage_series": [([("p", ASCENDING), ("m", ASCENDING)], {}), ([("m", ASCENDING)], {})],
    "usage_counters": [([("p", ASCENDING), ("m", ASCENDING)], {}), ([("m", ASCENDING)], {})],
    "usage_reads": [([("p", ASCENDING)], {})],
}
