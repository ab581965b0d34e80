"""Layout 10 of the MongoDB database: the rollup tiers' indexes (a frozen copy; schema.py
holds the current ones). Beside migrations.py, as DuckDB's layout_rollups.py is."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

__all__ = ["ROLLUP_LAYOUT"]

# Layout 10: rollup tiers, their dirty buckets (issue 13, decision 0004 "Rollup tiers").
ROLLUP_LAYOUT: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    **{
        f"rollup_{tier}": [
            ([("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)], {"unique": True}),
            ([("b", ASCENDING)], {}),
            ([("p", ASCENDING), ("b", ASCENDING)], {}),
        ]
        for tier in ("1m", "1h")
    },
    "rollup_dirty": [
        (
            [("t", ASCENDING), ("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)],
            {"unique": True},
        )
    ],
}
