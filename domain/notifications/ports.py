"""What notifications need from the outside: a store, a template renderer, a target
guard (SSRF) and an outbox that attempts deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from domain.notifications.model import Channel, Delivery, DeliveryState
from domain.notifications.policy import Policy
from domain.notifications.silences import Silence

__all__ = ["MessageRenderer", "NotificationStore", "Outbox", "TargetGuard"]


class NotificationStore(Protocol):
    """Scoped by project wherever a caller names an id: a foreign id reads as a missing one."""

    async def save_channel(self, channel: Channel, *, expected_version: int | None = None) -> bool:
        """Insert, or replace the channel of that id and project; with `expected_version`,
        only if the stored version is that one (False: nothing written)."""
        ...

    async def get_channel(self, project: str, channel_id: str) -> Channel | None: ...

    async def list_channels(self, project: str) -> list[Channel]:
        """Oldest first."""
        ...

    async def delete_channel(self, project: str, channel_id: str) -> bool: ...

    async def save_policy(self, project: str, policy: Policy) -> None: ...

    async def get_policy(self, project: str) -> Policy | None: ...

    async def save_silence(self, silence: Silence) -> None: ...

    async def get_silence(self, project: str, silence_id: str) -> Silence | None: ...

    async def list_silences(self, project: str) -> list[Silence]:
        """Newest first."""
        ...

    async def add_delivery(self, delivery: Delivery) -> None:
        """Store a new delivery; return only once it is durable."""
        ...

    async def claim_due(
        self, owner: str, *, now_us: int, until_us: int, limit: int
    ) -> list[Delivery]:
        """Claim up to `limit` pending deliveries due by `now_us` whose claim has lapsed,
        for `owner` until `until_us`; atomic across processes sharing the store."""
        ...

    async def claim(
        self, project: str, delivery_id: str, owner: str, *, now_us: int, until_us: int
    ) -> Delivery | None:
        """Claim one pending delivery now, due or not; None while any claim on it lives,
        this owner's included: a claim is one attempt, and two would run at once."""
        ...

    async def finish(self, delivery: Delivery, owner: str) -> bool:
        """Write the delivery after an attempt, if `owner` still holds its claim."""
        ...

    async def get_delivery(self, project: str, delivery_id: str) -> Delivery | None: ...

    async def list_deliveries(
        self,
        project: str,
        *,
        state: DeliveryState | None = None,
        channel_id: str | None = None,
        first: int = 100,
    ) -> list[Delivery]:
        """Newest first."""
        ...


class MessageRenderer(Protocol):
    def check(self, template: str) -> str | None:
        """Why the template cannot be rendered (a syntax error, blocks nested too deep),
        or None."""
        ...

    async def render(
        self, template: str, context: Mapping[str, Any], *, trial: bool = False
    ) -> str:
        """Render in a sandbox, off the event loop, within a time, iteration and output
        budget; raise ValueError if the template fails or exceeds one. Output past the
        budget is cut, or with `trial` (the test render at save) a failure too."""
        ...


class TargetGuard(Protocol):
    async def check(self, host_or_url: str) -> None:
        """Raise BadUserInput for a target Vigil must not reach (private, loopback,
        link-local, metadata) after resolving its name."""
        ...


class Outbox(Protocol):
    async def send_new(self, delivery: Delivery) -> Delivery:
        """Store a new delivery already claimed by this worker, then attempt it once now,
        through the same path as the worker: no other worker can take it meanwhile."""
        ...

    def wake(self) -> None:
        """New deliveries or groups are due: run the worker before its next tick."""
        ...
