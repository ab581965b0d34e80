"""Layout 12's statement, frozen as released: each project's cost pricing."""

from __future__ import annotations

__all__ = ["COST_PRICING"]

# Layout 12: each project's cost pricing (infra/stores/duckdb/pricing.py).
COST_PRICING = (
    """
    CREATE TABLE IF NOT EXISTS cost_pricing (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
)
