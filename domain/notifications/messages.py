"""Rendering a notification: the template context, the default templates, the test render
a channel's templates pass at save, and the one place that keeps line breaks out of
titles (they become email subjects)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from domain.errors import BadUserInput
from domain.notifications.alerts import AlertRecord
from domain.notifications.model import Channel, Message
from domain.notifications.ports import MessageRenderer

__all__ = [
    "DEFAULT_BODY",
    "DEFAULT_TITLE",
    "MAX_TITLE",
    "build_message",
    "one_line",
    "sample_message",
    "trial_render",
]

logger = logging.getLogger("vigil.notifications")

MAX_TITLE = 250
MAX_BODY = 100_000
DEFAULT_TITLE = (
    "[{{ status | upper }}{% if firing %}:{{ firing | length }}{% endif %}] "
    "{% if common_labels.alertname %}{{ common_labels.alertname }}"
    "{% else %}{{ alerts[0].alertname }} and others{% endif %}"
    "{% if escalated %} (escalated){% endif %}"
)
DEFAULT_BODY = (
    "{% for a in alerts %}{{ a.status | upper }} {{ a.alertname }}"
    "{% for k, v in a.tags.items() %} {{ k }}={{ v }}{% endfor %}"
    " severity={{ a.severity }} value={{ a.value }} threshold={{ a.threshold }}"
    " since {{ a.starts_at }}{% if a.ends_at %} until {{ a.ends_at }}{% endif %}\n{% endfor %}"
)
_LINE_BREAKS = re.compile(r"[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """Text safe for a header: every kind of line break becomes a space."""
    return _LINE_BREAKS.sub(" ", text).strip()[:limit]


def _context(
    channel: Channel,
    alerts: Sequence[AlertRecord],
    group_labels: Mapping[str, str],
    escalated: bool,
) -> dict[str, Any]:
    firing = [a.summary() for a in alerts if a.firing]
    resolved = [a.summary() for a in alerts if not a.firing]
    everyone = [a.labels for a in alerts]
    common = {k: v for k, v in everyone[0].items() if all(x.get(k) == v for x in everyone)}
    return {
        "status": "firing" if firing else "resolved",
        "project": channel.project,
        "channel": channel.name,
        "alerts": firing + resolved,
        "firing": firing,
        "resolved": resolved,
        "group_labels": dict(group_labels),
        "common_labels": common,
        "escalated": escalated,
    }


async def build_message(
    renderer: MessageRenderer,
    channel: Channel,
    *,
    alerts: Sequence[AlertRecord],
    group_key: str,
    group_labels: Mapping[str, str],
    escalated: bool = False,
) -> Message:
    context = _context(channel, alerts, group_labels, escalated)
    title = await _render(renderer, channel.title_template, DEFAULT_TITLE, context)
    body = await _render(renderer, channel.body_template, DEFAULT_BODY, context)
    return Message(
        title=one_line(title),
        body=body[:MAX_BODY],
        status=context["status"],
        group_key=group_key,
        group_labels=dict(group_labels),
        alerts=tuple(context["alerts"]),
    )


async def sample_message(renderer: MessageRenderer, channel: Channel, at_us: int) -> Message:
    """What sendTestNotification sends: the channel's templates over a made-up alert."""
    alerts = [_sample_alert(channel, at_us)]
    message = await build_message(
        renderer, channel, alerts=alerts, group_key="test", group_labels={}
    )
    return Message(message.title, message.body, "test", "test", {}, message.alerts)


async def trial_render(
    renderer: MessageRenderer,
    channel: Channel,
    at_us: int,
    names: Sequence[str] = ("title_template", "body_template"),
) -> None:
    """The test render of a channel's templates at save, over the made-up alert: a template
    that fails or exceeds a render budget (time, iterations, output) is refused here
    rather than falling back to the default at every notification."""
    context = _context(channel, [_sample_alert(channel, at_us)], {}, escalated=False)
    for name in names:
        template = getattr(channel, name)
        if not template:
            continue
        try:
            await renderer.render(template, context, trial=True)
        except ValueError as exc:
            raise BadUserInput(f"{name} fails its test render: {exc}") from None


def _sample_alert(channel: Channel, at_us: int) -> AlertRecord:
    return AlertRecord(
        project=channel.project,
        instance_id="test",
        rule_id="test",
        rule_name="Test notification",
        tags={"source": "vigil"},
        severity="info",
        value=1.0,
        threshold=0.0,
        reason="test",
        starts_us=at_us,
    )


async def _render(
    renderer: MessageRenderer, template: str, default: str, context: Mapping[str, Any]
) -> str:
    if template:
        try:
            return await renderer.render(template, context)
        except ValueError as exc:  # a template that fails at run time: the default instead
            logger.warning("notification template failed, using the default: %s", exc)
    return await renderer.render(default, context)
