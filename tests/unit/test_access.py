"""Roles per project, deny by default (DESIGN: Tenancy and access)."""

from __future__ import annotations

import pytest

from domain.access import Permission, Principal, Role, roles_granting
from domain.errors import Forbidden

R, W, E, A = Permission.READ, Permission.WRITE_METRICS, Permission.EDIT, Permission.ADMINISTER

ROLE_TABLE = {
    Role.VIEWER: {R},
    Role.EDITOR: {R, E},
    Role.ADMIN: {R, W, E, A},
    Role.COLLECTOR: {W},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_table(role: Role, permission: Permission) -> None:
    principal = Principal("alice", {"acme": role})

    expected = permission in ROLE_TABLE[role]
    assert principal.can("acme", permission) is expected
    if expected:
        principal.require("acme", permission)
    else:
        with pytest.raises(Forbidden):
            principal.require("acme", permission)


def test_the_table_covers_every_role_and_permission() -> None:
    assert set(ROLE_TABLE) == set(Role)
    assert set().union(*ROLE_TABLE.values()) == set(Permission)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_a_project_the_principal_has_no_role_in_is_denied(
    role: Role, permission: Permission
) -> None:
    principal = Principal("alice", {"acme": role})

    assert principal.can("globex", permission) is False
    assert principal.can("", permission) is False
    assert principal.can("ACME", permission) is False  # project names are exact
    with pytest.raises(Forbidden) as caught:
        principal.require("globex", permission)
    assert caught.value.code == "FORBIDDEN"
    message = caught.value.message  # in the caller's terms: roles, not permission names
    assert message.startswith("your token has no role in project 'globex'; this operation needs")
    assert all(r.value in message for r in roles_granting(permission))


def test_a_refusal_names_the_role_held_and_the_roles_that_would_do() -> None:
    viewer = Principal("vic", {"demo": Role.VIEWER})
    assert viewer.refusal("demo", W, "createMetrics") == (
        "your token has role viewer in project 'demo'; createMetrics needs admin or collector"
    )
    assert viewer.refusal("demo", E, "createAlert").endswith("createAlert needs editor or admin")
    assert viewer.refusal("demo", A, "auditLog").endswith("auditLog needs admin")


def test_a_principal_without_roles_can_do_nothing() -> None:
    nobody = Principal("bob")
    assert not any(nobody.can("acme", p) for p in Permission)
    assert nobody.projects_with(R) == []


def test_rights_in_one_project_do_not_leak_to_another() -> None:
    principal = Principal("alice", {"acme": Role.ADMIN, "globex": Role.VIEWER})

    assert principal.can("acme", E)
    assert not principal.can("globex", E)
    assert principal.projects_with(R) == ["acme", "globex"]
    assert principal.projects_with(E) == ["acme"]
    assert principal.projects_with(W) == ["acme"]


def test_projects_with_lists_only_projects_granting_the_permission_sorted() -> None:
    principal = Principal(
        "ci", {"zeta": Role.COLLECTOR, "alpha": Role.COLLECTOR, "mid": Role.VIEWER}
    )
    assert principal.projects_with(W) == ["alpha", "zeta"]
    assert principal.projects_with(R) == ["mid"]


def test_fingerprint_is_equal_for_equal_rights() -> None:
    alice = Principal("alice", {"acme": Role.EDITOR, "globex": Role.VIEWER}, expires_at=10.0)
    bob = Principal("bob", {"globex": Role.VIEWER, "acme": Role.EDITOR}, expires_at=99.0)

    assert alice.fingerprint == bob.fingerprint
    hash(alice.fingerprint)  # usable as a dict key to group subscribers


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"acme": Role.ADMIN, "globex": Role.VIEWER}, id="other-role"),
        pytest.param({"acme": Role.EDITOR}, id="fewer-projects"),
        pytest.param({"acme": Role.EDITOR, "globex": Role.VIEWER, "x": Role.VIEWER}, id="more"),
        pytest.param({"acme": Role.EDITOR, "initech": Role.VIEWER}, id="other-project"),
    ],
)
def test_fingerprint_differs_for_different_rights(other: dict[str, Role]) -> None:
    alice = Principal("alice", {"acme": Role.EDITOR, "globex": Role.VIEWER})
    assert Principal("alice", other).fingerprint != alice.fingerprint
