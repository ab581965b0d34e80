"""The LeaseStore port on DuckDB: one row per lease, each change one transaction on the
writer thread, so two callers never both hold a lease."""

from __future__ import annotations

from collections.abc import Collection

from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["DuckDBLeaseStore"]

_RENEW_LEASE = """
    UPDATE leases SET owner = $owner, expires_at_us = $expires
    WHERE name = $name AND (owner = $owner OR expires_at_us <= $now)
    RETURNING name
"""
_TAKE_LEASE = """
    INSERT INTO leases (name, owner, expires_at_us) VALUES ($name, $owner, $expires)
    ON CONFLICT DO NOTHING
    RETURNING name
"""


class DuckDBLeaseStore:
    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        return await self._run.write(_acquire_lease, name, owner, now_us, ttl_us)

    async def renew_leases(
        self, names: Collection[str], owner: str, *, now_us: int, ttl_us: int
    ) -> set[str]:
        if not names:
            return set()
        return await self._run.write(_renew_leases, list(names), owner, now_us + ttl_us)

    async def release_lease(self, name: str, owner: str) -> None:
        await self._run.write(_release_lease, name, owner)

    async def lease_holders(self, prefix: str, *, now_us: int) -> dict[str, str]:
        rows = await self._run.read(_lease_holders, prefix, now_us)
        return dict(rows)


@transaction
def _acquire_lease(cur: Cursor, name: str, owner: str, now_us: int, ttl_us: int) -> bool:
    params = {"name": name, "owner": owner, "now": now_us, "expires": now_us + ttl_us}
    if cur.execute(_RENEW_LEASE, params).fetchall():
        return True
    del params["now"]
    return bool(cur.execute(_TAKE_LEASE, params).fetchall())


def _renew_leases(cur: Cursor, names: list[str], owner: str, expires_us: int) -> set[str]:
    rows = cur.execute(
        "UPDATE leases SET expires_at_us = $expires "
        "WHERE owner = $owner AND list_contains($names::VARCHAR[], name) RETURNING name",
        {"names": names, "owner": owner, "expires": expires_us},
    ).fetchall()
    return {name for (name,) in rows}


def _release_lease(cur: Cursor, name: str, owner: str) -> None:
    cur.execute(
        "DELETE FROM leases WHERE name = $name AND owner = $owner", {"name": name, "owner": owner}
    )


def _lease_holders(cur: Cursor, prefix: str, now_us: int) -> list[tuple[str, str]]:
    rows = cur.execute(
        "SELECT name, owner FROM leases WHERE starts_with(name, $prefix) AND expires_at_us > $now",
        {"prefix": prefix, "now": now_us},
    ).fetchall()
    return [(name, owner) for name, owner in rows]
