"""What retention needs: where policies live, how each tier's old data is deleted, and the
audit trail its runs write to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from domain.storage.retention.model import RetentionPolicy
from domain.storage.tiers import Tier
from domain.system.read_models import AuditEntry

__all__ = [
    "AuditRecorder",
    "PointExpiry",
    "RetentionPolicyStore",
    "RetentionStore",
    "RollupExpiry",
]


class RetentionPolicyStore(Protocol):
    async def get_retention_policy(self, project: str) -> RetentionPolicy | None: ...

    async def save_retention_policy(
        self, policy: RetentionPolicy, *, expected_version: int
    ) -> bool:
        """Store `policy` (its `version` is `expected_version + 1`) if the stored one is at
        `expected_version` (0: none stored); False, writing nothing, otherwise."""
        ...

    async def retention_policies(self) -> list[RetentionPolicy]:
        """Every stored policy."""
        ...


class PointExpiry(Protocol):
    """Raw points and idempotency keys: what the store deletes for retention."""

    async def point_projects(self) -> list[str]:
        """Every project that has stored series."""
        ...

    async def point_names(self, project: str) -> list[str]:
        """Every metric name of the project's series."""
        ...

    async def expire_points(
        self,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        """Delete the raw points older than `before_us` of the project's series whose
        metric name is in `names` (None: every series) and not in `exclude_names`, in
        slices that let ingest go on; the number deleted."""
        ...

    async def expire_ingest_keys(self, before_us: int) -> int:
        """Forget the idempotency keys first used before `before_us`: a batch sent again
        with one of them is stored again. The number forgotten."""
        ...


class RetentionStore(RetentionPolicyStore, PointExpiry, Protocol):
    """What each store adapter opens as `retention`: its policies and its raw deletion."""


class RollupExpiry(Protocol):
    """The rollup tiers (1m, 1h): the same deletion per tier (the rollups' store)."""

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        """Delete the `tier` buckets starting before `before_us` (a multiple of the tier's
        resolution); as expire_points otherwise."""
        ...


class AuditRecorder(Protocol):
    """The audit trail's `record` (domain.system.audit.AuditTrail)."""

    async def record(
        self,
        *,
        actor: str,
        action: str,
        project: str,
        outcome: str,
        request_id: str = "",
        detail: dict[str, Any] | None = None,
        role: str = "",
        target: Mapping[str, str] | None = None,
        changes: Sequence[Any] = (),
        client: str = "",
    ) -> AuditEntry: ...
