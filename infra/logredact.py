"""Credentials never reach the logs: a token sent in a query string (which Vigil refuses,
but the access log would still write verbatim), or the signature of a report download
link (`sig`), is replaced by `<redacted>` in uvicorn's access and websocket log lines."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactCredentials", "redact"]

# Query parameters that carry a credential, as clients put them in URLs.
_PARAMETER = re.compile(
    r"([?&](?:token|access_token|id_token|auth|authorization|api_key|apikey|key|secret|"
    r"password|jwt|sig)=)[^&\s\"']*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return _PARAMETER.sub(r"\1<redacted>", text)


class RedactCredentials(logging.Filter):
    """A logging filter for uvicorn's handlers: rewrites the record's message arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True
