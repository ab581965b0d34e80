"""Deny by default: every root field names a permission, so none is open by accident."""

from __future__ import annotations

import pytest

from resolvers.root import Mutation, Query, Subscription


@pytest.mark.parametrize("root", [Query, Mutation, Subscription], ids=lambda r: r.__name__)
def test_every_root_field_has_a_permission(root: type) -> None:
    fields = root.__strawberry_definition__.fields  # type: ignore[attr-defined]
    open_fields = [f.name for f in fields if not f.permission_classes]
    assert fields and open_fields == []


def test_project_scoped_fields_check_the_project_argument() -> None:
    """A field taking `project` must check a project permission, not just authentication."""
    for root in (Query, Mutation, Subscription):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            names = {a.python_name for a in field.arguments}
            kinds = {p.__name__ for p in field.permission_classes}
            if "project" in names and field.name != "metric":  # metric(id) searches readable ones
                assert kinds - {"IsAuthenticated"}, f"{field.name} checks no project permission"
