"""Writing what running rules changed: their states and transitions, in chunks.

A checkpoint writes every state whose value moved (10,000 in the alerts benchmark). In one
store write that held the one DuckDB writer, and ingest's commits behind it, for 190-310
ms; in chunks of about WRITE_CHUNK, ingest gets the writer in between
(docs/performance.md, "LAST windows in a numpy lane").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from domain.alerting import AlertStore, InstanceState, Transition
from domain.alerting.runtime.index import RunningRule

__all__ = ["WRITE_CHUNK", "write_changes"]

WRITE_CHUNK = 250  # states and transitions per store write (a rule's are never split)

Change = tuple[RunningRule, list[InstanceState], list[Transition]]


async def write_changes(
    alerts: AlertStore, rules: Iterable[RunningRule], *, everything: bool, slice_size: int
) -> None:
    """Write what `rules` changed (with `everything`, every state whose value moved too).
    A failed chunk raises, its transitions and the later chunks' kept pending."""
    batch: list[Change] = []
    for n, running in enumerate(rules, 1):
        if n % slice_size == 0:
            await asyncio.sleep(0)  # 10,000 rules: let ingest in between
        states = running.changed_states(everything=everything)
        transitions, running.pending = running.pending, []
        if states or transitions:
            batch.append((running, states, transitions))
        else:  # nothing durable moved: what it checked is what the store holds
            running.written = running.checked
    chunks = _chunks(batch, WRITE_CHUNK)
    for n, chunk in enumerate(chunks):
        try:
            await alerts.save_changes({r.alert.id: (s, t) for r, s, t in chunk})
        except BaseException:
            for unwritten in chunks[n:]:
                for running, _, transitions in unwritten:
                    running.pending[:0] = transitions
            raise
        for running, states, _ in chunk:
            running.mark_saved(states)


def _chunks(batch: list[Change], size: int) -> list[list[Change]]:
    """`batch` cut into runs of about `size` states and transitions (a rule's stay whole)."""
    chunks: list[list[Change]] = []
    current: list[Change] = []
    count = 0
    for change in batch:
        current.append(change)
        count += len(change[1]) + len(change[2])
        if count >= size:
            chunks.append(current)
            current, count = [], 0
    if current:
        chunks.append(current)
    return chunks
