"""The one-way import rule `infra -> resolvers -> schema -> domain`, and module size.

DESIGN.md: `domain` imports only the standard library and numpy; schema never reaches into
resolvers or infra; resolvers never into infra. A module past ~300 lines becomes a package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "schema", "resolvers", "infra")
MAX_LINES = 400

# What each layer may not import (by top-level package); domain is an allow-list instead.
FORBIDDEN = {
    "schema": {"resolvers", "infra"},
    "resolvers": {"infra"},
    "infra": set(),
}
DOMAIN_ALLOWED = {"domain", "numpy"}


def python_files() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def imports_of(path: Path, root: Path | None = None) -> Iterator[tuple[int, str, str]]:
    """(line, absolute module, source text) of every import, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root or ROOT).parts[:-1])  # for mod.py and __init__.py
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, module, ast.unparse(node)


def violations() -> list[str]:
    found = []
    for path in python_files():
        layer = path.relative_to(ROOT).parts[0]
        for line, module, text in imports_of(path):
            top = module.split(".")[0]
            if layer == "domain":
                bad = top not in DOMAIN_ALLOWED and top not in sys.stdlib_module_names
            else:
                bad = top in FORBIDDEN[layer]
            if bad:
                found.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    return found


def test_the_layers_exist() -> None:
    files = python_files()
    for layer in LAYERS:
        assert any(p.relative_to(ROOT).parts[0] == layer for p in files), f"no {layer}/*.py"


def test_imports_point_one_way_infra_resolvers_schema_domain() -> None:
    found = violations()
    assert not found, "layering broken (infra -> resolvers -> schema -> domain):\n" + "\n".join(
        found
    )


def test_no_module_is_too_long() -> None:
    too_long = []
    for path in python_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not too_long, f"modules over {MAX_LINES} lines (make them packages):\n" + "\n".join(
        too_long
    )


# -- the checker itself must be able to see a violation -----------------------------------


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("domain/x.py", "import os\nimport numpy as np\nfrom domain.errors import E\n", []),
        ("domain/x.py", "from __future__ import annotations\nimport numpy.typing\n", []),
        ("domain/x.py", "import os, orjson\n", ["domain/x.py:1: import os, orjson"]),
        (
            "domain/x.py",
            "from infra.config import S\n",
            ["domain/x.py:1: from infra.config import S"],
        ),
        (
            "domain/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import strawberry\n",
            ["domain/x.py:3: import strawberry"],
        ),
        (
            "domain/x.py",
            "def f():\n    import duckdb\n",
            ["domain/x.py:2: import duckdb"],
        ),
        ("domain/sub/y.py", "from .. import errors\nfrom .z import w\n", []),
        ("schema/x.py", "import strawberry\nfrom domain import errors\n", []),
        (
            "schema/x.py",
            "from resolvers.root import Q\n",
            ["schema/x.py:1: from resolvers.root import Q"],
        ),
        ("schema/x.py", "import infra.app\n", ["schema/x.py:1: import infra.app"]),
        ("resolvers/x.py", "from schema.types import T\nfrom . import metrics\n", []),
        (
            "resolvers/x.py",
            "from infra import bootstrap\n",
            ["resolvers/x.py:1: from infra import bootstrap"],
        ),
        ("infra/x.py", "from resolvers.root import Q\nimport schema\nimport duckdb\n", []),
    ],
)
def test_the_checker_reports_file_line_and_import(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    relative: str,
    source: str,
    expected: list[str],
) -> None:
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)

    assert violations() == expected


# -- inside the domain: a kernel, and features that meet only through their contracts -----

# What a feature publishes to the others: its messages, ports, model values and read models.
# Its handlers, runtime and internal modules are its own (docs/architecture.md).
CONTRACT = frozenset({"commands", "queries", "events", "ports", "model", "read_models"})


def features(root: Path) -> frozenset[str]:
    return frozenset(p.parent.name for p in (root / "domain").glob("*/__init__.py"))


def feature_violations(root: Path) -> list[str]:
    """Kernel modules (the domain root) importing a feature, and features importing another
    feature past its contract."""
    found = []
    names = features(root)
    for path in sorted((root / "domain").rglob("*.py")):
        parts = path.relative_to(root / "domain").parts
        own = parts[0] if len(parts) > 1 else None  # None: a kernel module
        for line, module, text in imports_of(path, root):
            bits = module.split(".")
            if bits[0] != "domain" or len(bits) < 2 or bits[1] not in names or bits[1] == own:
                continue
            where = f"{path.relative_to(root)}:{line}: {text}"
            if own is None:
                found.append(f"{where} (the kernel imports no feature)")
            elif len(bits) < 3 or bits[2] not in CONTRACT:
                found.append(f"{where} (only {bits[1]}'s {', '.join(sorted(CONTRACT))})")
    return found


def test_the_kernel_imports_no_feature_and_features_meet_through_contracts() -> None:
    found = feature_violations(ROOT)
    assert not found, "domain features crossed:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("domain/messagebus.py", "from domain.errors import E\n", []),
        (
            "domain/messagebus.py",
            "from domain.alerting.events import E\n",
            ["domain/messagebus.py:1: from domain.alerting.events import E (the kernel"],
        ),
        ("domain/alerting/x.py", "from domain.metrics.ports import MetricStore\n", []),
        ("domain/alerting/x.py", "from domain.alerting.runtime import AlertEngine\n", []),
        (
            "domain/dashboards/x.py",
            "from domain.alerting.runtime import AlertEngine\n",
            ["domain/dashboards/x.py:1: from domain.alerting.runtime import AlertEngine (only"],
        ),
        (
            "domain/dashboards/x.py",
            "from domain.alerting import AlertEngine\n",
            ["domain/dashboards/x.py:1: from domain.alerting import AlertEngine (only"],
        ),
    ],
)
def test_the_feature_checker_sees_a_crossing(
    tmp_path: Path, relative: str, source: str, expected: list[str]
) -> None:
    for feature in ("alerting", "dashboards", "metrics"):
        (tmp_path / "domain" / feature).mkdir(parents=True)
        (tmp_path / "domain" / feature / "__init__.py").write_text("")
    target = tmp_path / relative
    target.write_text(source, encoding="utf-8")

    found = [v for v in feature_violations(tmp_path) if v.startswith(relative)]
    assert len(found) == len(expected)
    for violation, start in zip(found, expected, strict=True):
        assert violation.startswith(start)
