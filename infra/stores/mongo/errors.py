"""Driver errors become `Unavailable` with a message that names no host and no URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import ConfigurationError, PyMongoError

from domain.errors import Unavailable

__all__ = ["unavailable"]

log = logging.getLogger("vigil.store.mongo")


@contextmanager
def unavailable(action: str) -> Iterator[None]:
    """Turn any driver error inside the block into `Unavailable("MongoDB: <action> ...")`.

    The driver's own text names hosts and topology, so it goes to the log only; a
    configuration error may quote the URL, so not even there.
    """
    try:
        yield
    except PyMongoError as exc:
        kind = type(exc).__name__
        if isinstance(exc, ConfigurationError):
            log.warning("MongoDB: %s failed: %s", action, kind)
        else:
            log.warning("MongoDB: %s failed: %s: %s", action, kind, exc)
        raise Unavailable(f"MongoDB: {action} failed ({kind})") from None
