"""The chained audit trail: what linking costs on the write path, and how fast a chain verifies.

In one run, on the DuckDB store: 5,000 concurrent `record` calls (as 5,000 concurrent
requests each leave one entry), three rounds; the time `link` (canonical encoding and
SHA-256) takes for the same number of entries, measured alone, as a share of the recording
time; and `verifyAuditLog`'s walk over 20,000 entries.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import Context, log
from domain.compliance.evidence import verify_chain
from domain.system.model import link
from domain.system.read_models import AuditEntry
from infra.crypto import Ed25519Signer
from infra.stores.duckdb import DuckDBDatabase

CONCURRENT = 5_000
ROUNDS = 3
VERIFIED = 20_000


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        "collector-1",
        "CreateMetricsCommand",
        "bench",
        "ok",
        1_000_000 + i,
        f"req-{i}",
        role="collector",
        changes=[{"field": "points", "old": None, "new": "<500 items>", "redacted": False}],
        client="10.0.0.7",
    )


async def _run(ctx: Context) -> dict[str, Any]:
    db = await DuckDBDatabase.open(str(ctx.tmp / "audit-bench.duckdb"))
    try:
        rounds = []
        for r in range(ROUNDS):
            started = time.perf_counter()
            await asyncio.gather(*(db.audit.record(_entry(i)) for i in range(CONCURRENT)))
            rounds.append(time.perf_counter() - started)
            log(f"audit: round {r + 1}: {CONCURRENT / rounds[-1]:,.0f} entries/s")
        started = time.perf_counter()
        previous = None
        for i in range(CONCURRENT):
            linked = link(_entry(i), previous)
            previous = (linked.chain_index, linked.hash)
        linking = time.perf_counter() - started
        while (head := await db.audit.head("bench")) is None or head.chain_index < VERIFIED:
            await asyncio.gather(*(db.audit.record(_entry(i)) for i in range(CONCURRENT)))
        signer = Ed25519Signer.from_file(ctx.tmp / "audit-bench.key")
        started = time.perf_counter()
        found = await verify_chain(
            "bench", None, None, audit_store=db.audit, compliance_store=db.compliance, signer=signer
        )
        walking = time.perf_counter() - started
        assert found.verified, found.first_break
    finally:
        await db.close()
    best = min(rounds)
    return {
        "benchmark": "audit",
        "record_entries_per_second": round(CONCURRENT / best),
        "record_rounds_seconds": [round(x, 3) for x in rounds],
        "link_us_per_entry": round(linking / CONCURRENT * 1e6, 1),
        "link_share_of_recording": round(linking / best, 3),
        "verify_entries_per_second": round(found.entries / walking),
        "verified_entries": found.entries,
    }


def run(ctx: Context) -> dict[str, Any]:
    return asyncio.run(_run(ctx))
