"""Aggregation groups and deduplication, as Alertmanager's dispatcher and notification log.

A group collects the alerts of one route with the same values of its `group_by` labels.
It first flushes `group_wait` after it was created, then every `group_interval`; each
flush notifies a channel only if what that channel was last told changed, or
`repeat_interval` passed while alerts still fire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.notifications.alerts import AlertRecord
from domain.notifications.policy import RouteLeaf

__all__ = ["Group", "Sent", "group_key", "needs_update"]


@dataclass(frozen=True, slots=True)
class Sent:
    """What one channel was last told by one group."""

    firing: frozenset[str]
    resolved: frozenset[str]
    at_us: int


@dataclass(slots=True)
class Group:
    key: str
    project: str
    leaf: RouteLeaf
    labels: dict[str, str]
    next_flush_us: int
    alerts: dict[str, AlertRecord] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)


def group_key(
    project: str, leaf: RouteLeaf, labels: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """The group an alert with `labels` joins on `leaf`, and the group's own labels."""
    if leaf.group_by is None:
        chosen = dict(labels)
    else:
        chosen = {k: labels[k] for k in leaf.group_by if k in labels}
    text = json.dumps(sorted(chosen.items()), separators=(",", ":"))
    return f"{project}/{leaf.path}/{text}", chosen


def needs_update(
    last: Sent | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    *,
    send_resolved: bool,
    repeat_interval_us: int,
    now_us: int,
) -> bool:
    """Alertmanager's DedupStage: new firing alerts, newly resolved ones (if the channel
    wants them), or the repeat interval over while something fires."""
    if last is None:
        return bool(firing)
    if not firing <= last.firing:
        return True
    if not firing and last.firing:
        return send_resolved
    if send_resolved and not resolved <= last.resolved:
        return bool(resolved & last.firing)
    return bool(firing) and now_us - last.at_us >= repeat_interval_us
