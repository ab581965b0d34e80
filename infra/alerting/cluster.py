"""AlertCluster: the AlertRuntime port when several processes share a store and bus.

Each alert is evaluated by exactly one process at a time: the holder of its shard lease
(`ShardLeases`). This process's `AlertEngine` evaluates the alerts of the shards it holds;
`RemoteFeed` brings it the points ingested elsewhere; `Control` sends a user's move of an
alert evaluated elsewhere to its owner, whose engine makes the move and publishes its
events (so the owner's notification router hears them); the port methods then return no
transitions. A process that stops cleanly releases its
shards at once; one that dies hands them over when its leases expire, within
`lease_seconds` plus one renewal round.

Anomaly detections ride the same shards: a detection, like an ANOMALY rule, is placed by its
metric (`placement`), so every detector of a metric runs in the one process holding that
shard, beside the rules reading it; configuring one elsewhere is sent to that process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from domain.alerting import Alert, AlertStore, InstanceKey, InstanceState, Transition
from domain.alerting.ports import Placed
from domain.alerting.runtime.engine import AlertEngine, Picker, Publish
from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.ports import AnomalyRuntime
from domain.anomaly.read_models import DetectorStatus
from domain.errors import Unavailable
from domain.ports import Clock
from infra.alerting.control import Control
from infra.alerting.feed import RemoteFeed
from infra.alerting.leases import SHARDS, Changes, ShardLeases, shard_of
from infra.bus import EventBus

__all__ = ["AlertCluster"]

logger = logging.getLogger("vigil.alerting")


class AlertCluster:
    """Implements the AlertRuntime port; `start` before use, `close` at the end."""

    def __init__(
        self,
        engine: AlertEngine,
        alerts: AlertStore,
        leases: ShardLeases,
        bus: EventBus,
        clock: Clock,
        *,
        rpc_timeout: float = 3.0,
        detectors: AnomalyRuntime | None = None,
    ) -> None:
        self.engine = engine
        self.detectors_here = detectors
        self.leases = leases
        self._alerts = alerts
        self._clock = clock
        owner = leases.owner
        self._feed = RemoteFeed(bus, owner, engine.on_points, engine.refill)
        self._control = Control(bus, owner, self._serve, timeout=rpc_timeout)
        self._rounds: asyncio.Task[None] | None = None
        self._moving = asyncio.Lock()  # one round or request changes ownership at a time
        self._closed = False

    # -- lifetime ---------------------------------------------------------------------------

    async def start(self, publish: Publish) -> None:
        """Take a share of the shards, start their alerts, then follow the bus."""
        try:
            await self.leases.round(self._clock.now_us())
        except Exception:
            logger.exception("taking alert shards failed; retrying every renewal round")
        await self.engine.start(publish, wanted=self._held)
        await self._control.start()
        await self._feed.follow(self.engine.projects)
        self._rounds = asyncio.create_task(self._renew())
        logger.info(
            "alert shards %d of %d held by %s", len(self.leases.held), SHARDS, self.leases.owner
        )

    async def close(self, *, release: bool = True) -> None:
        """Stop; `release=False` leaves the leases to expire, as a process that died would."""
        if self._closed:
            return
        self._closed = True
        if self._rounds is not None:
            self._rounds.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rounds
        await self._feed.close()
        await self._control.close()
        await self.engine.close()
        if release:
            with contextlib.suppress(Exception):
                await self.leases.leave()

    async def rebalance(self) -> Changes:
        """One lease round: renew, then take or give shards (run every third of a lease)."""
        now = self._clock.now_us()
        async with self._moving:
            try:
                changes = await self.leases.round(now)
            except Exception:
                logger.exception("renewing alert shard leases failed")
                lost = self.leases.expire(now)
                changes = Changes(lost=lost)
            if changes.lost:
                await self.engine.drop(_in(changes.lost), save=False)
            if changes.released:
                await self.engine.drop(_in(changes.released), save=True)
                await self.leases.release(changes.released)
            if changes.gained:
                await self.engine.adopt(_in(changes.gained))
            if self._feed.projects != self.engine.projects:
                await self._feed.follow(self.engine.projects)
                if changes.gained:  # points sent before the new channels were followed
                    await self.engine.refill()
        if changes:
            logger.info(
                "alert shards: +%d -%d, %d held",
                len(changes.gained),
                len(changes.released | changes.lost),
                len(self.leases.held),
            )
        return changes

    # -- the AlertEngine port ---------------------------------------------------------------

    async def reload(self, alert: Alert) -> None:
        if self.leases.owns(alert.placement):
            # Follow its project first: a point stored after the windows are filled
            # arrives over the bus. Under the lock, so a round cannot unfollow it meanwhile.
            async with self._moving:
                await self._feed.follow(self.engine.projects | {alert.project})
                await self.engine.reload(alert)
            return
        try:  # answered once the owner evaluates it: a point sent next is evaluated
            await self._control.call("reload", alert=alert.to_dict())
        except Unavailable:  # no owner right now: the next one loads it from the store
            logger.warning("alert %s changed while no process evaluated it", alert.id)

    async def remove(self, alert: Alert, *, by: str, comment: str) -> list[Transition]:
        if self.leases.owns(alert.placement):
            return await self.engine.remove(alert, by=by, comment=comment)
        try:
            await self._control.call("remove", alert=alert.to_dict(), by=by, comment=comment)
        except Unavailable:  # no owner now: the next one will not load a disabled alert
            logger.warning("alert %s removed while no process evaluated it", alert.id)
        return []

    async def acknowledge(
        self,
        alert: Alert,
        key: InstanceKey | None,
        *,
        by: str,
        comment: str,
        until_us: int | None,
    ) -> list[Transition]:
        if self.leases.owns(alert.placement):
            return await self.engine.acknowledge(
                alert, key, by=by, comment=comment, until_us=until_us
            )
        await self._control.call(
            "acknowledge",
            alert=alert.to_dict(),
            key=_key(key),
            by=by,
            comment=comment,
            until_us=until_us,
        )
        return []

    async def resolve(
        self, alert: Alert, key: InstanceKey | None, *, by: str, comment: str
    ) -> list[Transition]:
        if self.leases.owns(alert.placement):
            return await self.engine.resolve(alert, key, by=by, comment=comment)
        await self._control.call(
            "resolve", alert=alert.to_dict(), key=_key(key), by=by, comment=comment
        )
        return []

    def instances(self, alert_id: str) -> list[InstanceState] | None:
        return self.engine.instances(alert_id)

    # -- the AnomalyRuntime port -------------------------------------------------------------

    async def reload_detection(self, detection: AnomalyDetection) -> None:
        await self._detection("reload_detection", detection)

    async def remove_detection(self, detection: AnomalyDetection) -> None:
        await self._detection("remove_detection", detection)

    def detectors(self, detection_id: str) -> list[DetectorStatus] | None:
        here = self.detectors_here
        return None if here is None else here.detectors(detection_id)

    async def _detection(self, op: str, detection: AnomalyDetection) -> None:
        here = self.detectors_here
        if here is None:
            return
        if self.leases.owns(detection.placement):
            async with self._moving:  # its project's points must reach this process
                await self._feed.follow(self.engine.projects | {detection.project})
                await getattr(here, op)(detection)
            return
        try:
            await self._control.call(op, detection=detection.to_dict())
        except Unavailable:  # no owner now: the next one loads it from the store
            logger.warning("anomaly detection %s changed while no process ran it", detection.id)

    # -- helpers ----------------------------------------------------------------------------

    def _held(self, alert: Placed) -> bool:
        return self.leases.owns(alert.placement)

    async def _serve(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """A request from another process: carried out if this one evaluates the alert."""
        op = request["op"]
        if op in ("reload_detection", "remove_detection"):
            detection = AnomalyDetection.from_dict(request["detection"])
            if not self.leases.owns(detection.placement) or self.detectors_here is None:
                return None
            await self._detection(op, detection)
            return {}
        alert = Alert.from_dict(request["alert"])
        if not self.leases.owns(alert.placement):
            return None
        if op == "reload":  # as stored here: a deployment sharing the Redis server is ignored
            stored = await self._alerts.get_alert(alert.project, alert.id)
            if stored is None or not stored.enabled:
                return None
            await self.reload(stored)
            return {}
        if alert.id not in self.engine:
            return None  # not evaluated here (yet): no answer, the asker times out
        by, comment = request["by"], request["comment"]
        key = None if request.get("key") is None else tuple(request["key"])
        if op == "remove":
            moved = await self.engine.remove(alert, by=by, comment=comment)
        elif op == "acknowledge":
            moved = await self.engine.acknowledge(
                alert, key, by=by, comment=comment, until_us=request["until_us"]
            )
        elif op == "resolve":
            moved = await self.engine.resolve(alert, key, by=by, comment=comment)
        else:
            return None
        # The engine published the events here, so this process's notification router
        # (which holds the alert's groups and escalations) heard them.
        return {"moved": len(moved)}

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.leases.interval_us / 1_000_000)
            try:
                await self.rebalance()
            except Exception:  # a failed round must not end the renewals
                logger.exception("alert shard round failed")


def _in(shards: frozenset[int]) -> Picker:
    def picked(placed: Placed) -> bool:
        return shard_of(placed.placement) in shards

    return picked


def _key(key: InstanceKey | None) -> list[str] | None:
    return None if key is None else list(key)
