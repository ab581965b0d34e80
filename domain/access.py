"""Who may do what: roles per project, checked deny-by-default."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from domain.errors import Forbidden

__all__ = ["SYSTEM_PROJECT", "Permission", "Principal", "Role", "roles_granting"]

SYSTEM_PROJECT = "system"


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    COLLECTOR = "collector"


class Permission(StrEnum):
    READ = "read"
    WRITE_METRICS = "write_metrics"
    EDIT = "edit"
    ADMINISTER = "administer"


_GRANTS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.EDIT}),
    Role.ADMIN: frozenset(
        {Permission.READ, Permission.EDIT, Permission.ADMINISTER, Permission.WRITE_METRICS}
    ),
    Role.COLLECTOR: frozenset({Permission.WRITE_METRICS}),
}


def roles_granting(permission: Permission) -> list[Role]:
    """The roles that hold `permission`, in the order of `Role`."""
    return [role for role in Role if permission in _GRANTS[role]]


def _either(roles: list[Role]) -> str:
    names = [role.value for role in roles]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a subject and its role in each project it may access."""

    subject: str
    roles: Mapping[str, Role] = field(default_factory=dict)
    expires_at: float | None = None  # unix seconds, from the token's `exp`
    token_id: str | None = None  # the token's `jti`: what a revocation of one token names
    issued_at: float | None = None  # unix seconds, from the token's `iat`

    def can(self, project: str, permission: Permission) -> bool:
        role = self.roles.get(project)
        return role is not None and permission in _GRANTS[role]

    def require(self, project: str, permission: Permission, action: str = "this operation") -> None:
        """Raise Forbidden unless the principal holds `permission` in `project`."""
        if not self.can(project, permission):
            raise Forbidden(self.refusal(project, permission, action))

    def refusal(self, project: str, permission: Permission, action: str) -> str:
        """Why `action` is refused, in the caller's terms: the role the token holds and the
        roles that would do (permission names are Vigil's, not the caller's)."""
        role = self.roles.get(project)
        held = f"role {role.value}" if role is not None else "no role"
        return (
            f"your token has {held} in project {project!r}; "
            f"{action} needs {_either(roles_granting(permission))}"
        )

    def role_in(self, project: str) -> Role | None:
        return self.roles.get(project)

    def without(self, projects: Collection[str]) -> Principal:
        """The same caller with no role left in `projects` (what a revocation takes away)."""
        return replace(self, roles={p: r for p, r in self.roles.items() if p not in projects})

    def projects_with(self, permission: Permission) -> list[str]:
        return sorted(p for p, role in self.roles.items() if permission in _GRANTS[role])

    @property
    def fingerprint(self) -> tuple[tuple[str, str], ...]:
        """Equal for principals with the same rights; lets identical subscriptions share work."""
        return tuple(sorted((p, r.value) for p, r in self.roles.items()))
