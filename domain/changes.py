"""What a command changed, as its handler tells the audit trail: ids, fields, secrets redacted.

The message bus opens a note for every command it handles (`collecting`); a handler that
changes an entity calls `note_target` and `note_changes` with the entity before and after,
and the audit entry of the command carries them. A handler that says nothing gets the
command's own fields as new values (`command_changes`). Either way a field that is a secret
(named in `secrets`, or by a name such as `password`) keeps only its name: its values never
reach the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any

__all__ = [
    "AuditNote",
    "Change",
    "collecting",
    "command_changes",
    "diff",
    "is_secret",
    "note_changes",
    "note_target",
    "summarize",
    "take_ok_entry",
]

# Names that always mean a secret, whatever the handler says.
_SECRET_NAME = re.compile(
    r"(secret|password|passwd|token|api_?key|private_?key|signing_?key|credential)", re.I
)
_MAX_TEXT = 500
_MAX_ITEMS = 20
_MAX_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field; a redacted one keeps its name only."""

    field: str
    old: Any = None
    new: Any = None
    redacted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new, "redacted": self.redacted}


@dataclass(slots=True)
class AuditNote:
    """What one command changed: the ids it touched (`target`) and each changed field."""

    target: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    noted: bool = False  # a handler said what changed (even "nothing")
    # The command's audit entry if it ends "ok", for a store that can commit it with the
    # command's write (one transaction instead of two: decision 0042); `ok_written` once
    # it has, and the trail then records nothing more for an "ok".
    ok_entry: Callable[[], Any] | None = None
    ok_written: bool = False


_current: ContextVar[AuditNote | None] = ContextVar("vigil_audit_note", default=None)


@contextmanager
def collecting() -> Iterator[AuditNote]:
    """A fresh note for the command run inside; the bus reads it once the handler is done."""
    note = AuditNote()
    token = _current.set(note)
    try:
        yield note
    finally:
        _current.reset(token)


def take_ok_entry() -> tuple[AuditNote, Any] | None:
    """The running command's note and its "ok" audit entry, for a store to commit with
    the command's write; None when there is none (or a write took it already)."""
    note = _current.get()
    if note is None or note.ok_entry is None:
        return None
    build, note.ok_entry = note.ok_entry, None  # one write carries it
    return note, build()


def note_target(**ids: str | None) -> None:
    """Name the ids the command touched (`alert="a1"`); None values are skipped."""
    note = _current.get()
    if note is not None:
        note.target.update({k: str(v) for k, v in ids.items() if v is not None})


def note_changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    secrets: Collection[str] = (),
    ignore: Collection[str] = (),
) -> None:
    """Record the fields that differ between `before` and `after` (None: created, deleted)."""
    note = _current.get()
    if note is not None:
        note.noted = True
        note.changes.extend(diff(before, after, secrets=secrets, ignore=ignore))


def is_secret(name: str, secrets: Collection[str] = ()) -> bool:
    return name in secrets or bool(_SECRET_NAME.search(name))


def diff(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    secrets: Collection[str] = (),
    ignore: Collection[str] = (),
) -> list[Change]:
    """Each field whose value differs, in a stable order; secrets redacted."""
    old, new = before or {}, after or {}
    changes = []
    for name in sorted(set(old) | set(new)):
        if name in ignore:
            continue
        was, now = old.get(name), new.get(name)
        if was == now:  # unchanged, or unset on both sides of a creation or deletion
            continue
        if is_secret(name, secrets):
            if was or now:  # an empty secret on both sides is no change worth a line
                changes.append(Change(name, redacted=True))
            continue
        changes.append(Change(name, summarize(was), summarize(now)))
    return changes


def command_changes(
    command: object, *, skip: Collection[str] = ("actor", "project")
) -> list[Change]:
    """A command's fields as new values: what a handler that noted nothing asked for."""
    if not is_dataclass(command):
        return []
    values = {
        f.name: _shallow(getattr(command, f.name)) for f in fields(command) if f.name not in skip
    }
    return diff(None, values)


def _shallow(value: Any) -> Any:
    """Containers of containers (a batch of points) are counted, not copied."""
    if isinstance(value, Mapping):
        nested = any(isinstance(v, Mapping | list | tuple) for v in value.values())
        return f"<{len(value)} fields>" if nested else value
    if isinstance(value, list | tuple):
        nested = any(isinstance(v, Mapping | list | tuple) for v in value)
        return f"<{len(value)} items>" if nested else value
    if hasattr(value, "__len__") and not isinstance(value, str | bytes):
        return f"<{len(value)} items>"  # columns of points, arrays: counted, never printed
    return value


def summarize(value: Any, depth: int = 0) -> Any:
    """A JSON value no bigger than an audit entry should hold: long text cut, long lists
    counted, nested secrets redacted."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return summarize(value.value, depth)
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."
    if isinstance(value, Mapping):
        if depth >= _MAX_DEPTH or len(value) > _MAX_ITEMS:
            return f"<{len(value)} fields>"
        return {
            str(k): "[redacted]" if is_secret(str(k)) else summarize(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if depth >= _MAX_DEPTH or len(items) > _MAX_ITEMS:
            return f"<{len(items)} items>"
        return [summarize(v, depth + 1) for v in items]
    if is_dataclass(value) and not isinstance(value, type):
        return summarize({f.name: getattr(value, f.name) for f in fields(value)}, depth)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return summarize(to_dict(), depth)
    if hasattr(value, "__len__") and not isinstance(value, bytes):
        return f"<{len(value)} items>"  # an array: its size, not its text
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."
