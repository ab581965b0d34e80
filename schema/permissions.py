"""Field permissions: deny by default, checked against the `project` argument.

Every root field names one of these; a test walks the schema to keep it so.
A refusal is written to the audit trail before the error reaches the client: to the
project's log when the caller is a member of it, else to the security log (rate-limited,
domain/system/security.py). A permission granted is counted for access reviews.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from domain.access import Permission
from domain.errors import Forbidden, Unauthenticated
from schema.context import Info

__all__ = ["CanAdminister", "CanEdit", "CanRead", "CanWriteMetrics", "IsAuthenticated"]

# Live subscriptions that read metrics, counted with the metric reads (the queries are
# counted by the message bus as they are asked).
_LIVE_METRIC_READS = frozenset({"metricCollected", "dashboardUpdated"})


class _ProjectPermission(BasePermission):
    required: ClassVar[Permission | None] = None

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        project = kwargs.get("project")
        try:
            principal = context.require_principal()
        except Unauthenticated:
            if context.auth_error is None and context.security is not None:
                # No token at all (a refused token was recorded when it was refused).
                await context.security.refused(
                    metric="refused_tokens",
                    actor="anonymous",
                    action=_action(info),
                    outcome=Unauthenticated.code,
                    asked=project or "",
                    reason="missing",
                    client=context.client,
                    request_id=context.request_id,
                )
            raise
        if self.required is None or project is None:
            return True
        if not principal.can(project, self.required):
            if context.security is not None:
                role = principal.role_in(project)
                await context.security.refused(
                    metric="refused_permissions",
                    actor=principal.subject,
                    action=_action(info),
                    outcome=Forbidden.code,
                    asked=project,
                    tenant=role is not None,
                    role=role.value if role is not None else "",
                    reason=self.required.value,
                    client=context.client,
                    request_id=context.request_id,
                )
            raise Forbidden(principal.refusal(project, self.required, info.field_name))
        if context.access is not None:
            context.access.seen(principal, project, self.required)
        if context.reads is not None and info.field_name in _LIVE_METRIC_READS:
            context.reads.count(context.caller(), project, f"subscription:{info.field_name}")
        return True


def _action(info: Info) -> str:
    return f"{info.operation.operation.value}:{info.field_name}"


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
