"""DuckDB past its memory limit (VIGIL_STORE_MEMORY_LIMIT_MB): a clear refusal, a store
that goes on working."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import Unavailable
from infra.stores.duckdb import DuckDBDatabase
from infra.stores.duckdb.runner import Cursor

# A list of 100M integers (800 MB) cannot spill to disk: DuckDB refuses it at the limit.
TOO_BIG = "SELECT list(i) FROM range(100000000) t(i)"


def _too_big(cur: Cursor) -> object:
    return cur.execute(TOO_BIG).fetchall()


async def test_a_call_past_the_memory_limit_is_unavailable_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    async with await DuckDBDatabase.open(str(tmp_path / "v.duckdb"), memory_limit_mb=64) as db:
        with pytest.raises(Unavailable, match="ran out of memory") as refused:
            await db._runner.read(_too_big)
        assert refused.value.code == "UNAVAILABLE"
        assert not db.faults.invalidated
        memory = await db.memory()
        assert memory["limit_bytes"] == 64 * 2**20
        assert memory["used_bytes"] < memory["limit_bytes"]
