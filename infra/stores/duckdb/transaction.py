"""All of a function's statements in one DuckDB transaction, or none of them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import suppress
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

from infra.stores.duckdb.faults import commit

__all__ = ["Cursor", "transaction"]

Cursor = duckdb.DuckDBPyConnection
P = ParamSpec("P")
T = TypeVar("T")


def transaction(fn: Callable[Concatenate[Cursor, P], T]) -> Callable[Concatenate[Cursor, P], T]:
    """Run `fn` in one transaction: all its statements commit, or none does."""

    @functools.wraps(fn)
    def run(cur: Cursor, /, *args: P.args, **kwargs: P.kwargs) -> T:
        cur.begin()
        try:
            result = fn(cur, *args, **kwargs)
            commit(cur)
        except BaseException:
            with suppress(duckdb.Error):
                cur.rollback()
            raise
        return result

    return run
