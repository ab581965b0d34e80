"""The compiled scanners (`_scan.pyx`, built by setup.py; decision 0041), or None where they
could not be built: the collectors then read bodies with their numpy and bytes paths, which
give the same points at several times the CPU."""

from __future__ import annotations

__all__ = ["COMPILED", "compiled"]

try:
    from infra.collectors import _scan
except ImportError:  # pragma: no cover - a machine without a C compiler
    _scan = None  # type: ignore[assignment]

compiled = _scan  # what the decoders call; tests set it to None for the Python paths
COMPILED = compiled is not None
