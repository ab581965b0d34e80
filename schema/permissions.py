"""Field permissions: deny by default, checked against the `project` argument.

Every root field names one of these; a test walks the schema to keep it so.
A refusal is written to the audit trail before the error reaches the client.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from domain.access import Permission
from domain.errors import Forbidden, Unauthenticated
from schema.context import Info

__all__ = ["CanAdminister", "CanEdit", "CanRead", "CanWriteMetrics", "IsAuthenticated"]


class _ProjectPermission(BasePermission):
    required: ClassVar[Permission | None] = None

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        try:
            principal = context.require_principal()
        except Unauthenticated:
            await _record(
                info,
                actor="anonymous",
                project=kwargs.get("project") or "",
                outcome=Unauthenticated.code,
            )
            raise
        project = kwargs.get("project")
        if self.required is None or project is None:
            return True
        if not principal.can(project, self.required):
            await _record(info, actor=principal.subject, project=project, outcome=Forbidden.code)
            raise Forbidden(principal.refusal(project, self.required, info.field_name))
        return True


async def _record(info: Info, *, actor: str, project: str, outcome: str) -> None:
    await info.context.audit.record(
        actor=actor,
        action=f"{info.operation.operation.value}:{info.field_name}",
        project=project,
        outcome=outcome,
        request_id=info.context.request_id,
    )


class IsAuthenticated(_ProjectPermission):
    """Any valid token; the resolver restricts what it returns to the caller's projects."""


class CanRead(_ProjectPermission):
    required = Permission.READ


class CanWriteMetrics(_ProjectPermission):
    required = Permission.WRITE_METRICS


class CanEdit(_ProjectPermission):
    required = Permission.EDIT


class CanAdminister(_ProjectPermission):
    required = Permission.ADMINISTER
