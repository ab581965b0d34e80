"""Metric descriptions a sender gives (type, help, unit), checked like the points they
come with."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import BadUserInput
from domain.metrics.ingest.batch import IngestLimits
from domain.metrics.ingest.series import NAME_PATTERN
from domain.metrics.model import MetricDescription

__all__ = ["check_descriptions"]


def check_descriptions(
    descriptions: Sequence[MetricDescription], limits: IngestLimits
) -> list[MetricDescription]:
    """The descriptions, one per name (the last one given wins); BadUserInput naming the
    first bad one, so that a request with a bad description stores nothing."""
    by_name: dict[str, MetricDescription] = {}
    for position, description in enumerate(descriptions):
        name = description.name
        reason = None
        if not name or len(name) > limits.max_name_length or not NAME_PATTERN.fullmatch(name):
            reason = (
                f"name {name[:60]!r} is empty, too long or has characters outside [a-zA-Z0-9_:.-]"
            )
        elif len(description.help) > limits.max_help_length:
            reason = f"help longer than {limits.max_help_length} characters"
        elif len(description.unit) > limits.max_unit_length:
            reason = f"unit longer than {limits.max_unit_length} characters"
        if reason is not None:
            raise BadUserInput(f"metric description {position} ({name[:60]!r}): {reason}")
        by_name[name] = description
    return list(by_name.values())
