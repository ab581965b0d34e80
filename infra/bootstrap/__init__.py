"""Wiring: the one place that knows which adapters are in use, and the routing table."""

from infra.bootstrap.adapters import (
    StoreDatabase,
    local_tokens,
    make_verifier,
    open_store,
    vigil_version,
)
from infra.bootstrap.routing import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS, build_bus
from infra.bootstrap.runtimes import Runtimes
from infra.bootstrap.vigil import Vigil

__all__ = [
    "COMMAND_HANDLERS",
    "EVENT_HANDLERS",
    "QUERY_HANDLERS",
    "Runtimes",
    "StoreDatabase",
    "Vigil",
    "build_bus",
    "local_tokens",
    "make_verifier",
    "open_store",
    "vigil_version",
]
