"""Compliance assembled from the settings: keys, the ledgers, revocations, jobs, health.

`Compliance` is built once the stores are open (it seals the notification store's
secrets from then on), hands the message bus its dependencies (`dependencies`), and is
started once the bus exists: it reseals old secrets, loads the revocations, follows them
on the event bus, runs its periodic jobs and watches health. `close` flushes what the
ledgers still hold, before the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from domain.access import SYSTEM_PROJECT
from domain.compliance.events import AccessRevokedEvent
from domain.compliance.evidence import CLOCK_OFFSET_METRIC, Evidence
from domain.compliance.ports import RetentionEvidence
from domain.compliance.reviews import CompliancePolicy
from domain.compliance.runs import check_project, write_checkpoints
from domain.compliance.runtime import AccessLedger, ClockOffsets, Job, Jobs, RevocationList
from domain.dashboards.queries import GetDashboardDataQuery
from domain.events import UnknownEvent, from_message
from domain.messagebus import MessageBus
from domain.metrics.queries import (
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.ports import Clock, LeaseStore
from domain.system.audit import AuditTrail
from domain.system.health import DeliveryHealth, HealthWatcher, JobsHealth
from domain.system.reads import ReadLedger
from domain.system.security import SecurityCounters, SecurityLog
from infra.alerting.following import follow
from infra.bus import EventBus
from infra.compliance.probes import DiskProbe
from infra.compliance.sockets import LiveSockets
from infra.config import Settings
from infra.crypto import Ed25519Signer, Keyring, SecretCipher
from infra.selfmon import monitor_point

__all__ = ["METRIC_READS", "Compliance"]

logger = logging.getLogger("vigil.compliance")

# The reads of metrics the audit trail counts (domain/system/reads.py).
METRIC_READS = (
    GetMetricsByIdQuery,
    GetMetricsListQuery,
    GetMetricSeriesQuery,
    GetMetricNamesQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
    GetDashboardDataQuery,
)
# What `close` runs once more: nothing counted is left unwritten.
_FINAL = ("access", "reads", "security")


class Compliance:
    def __init__(
        self,
        settings: Settings,
        stores: Any,
        clock: Clock,
        trail: AuditTrail,
        retention: RetentionEvidence | None = None,
    ) -> None:
        keyring = (
            Keyring.inline(settings.encryption_keys)
            if settings.encryption_keys
            else Keyring.from_file(
                settings.beside_secret(settings.encryption_key_file, "encryption.keys")
            )
        )
        self.settings = settings
        self.stores = stores
        self.clock = clock
        self.cipher = SecretCipher(keyring)
        self.signer = Ed25519Signer.from_file(
            settings.beside_secret(settings.audit_key_file, "audit-signing.key"),
            settings.audit_trusted_keys,
        )
        self.policy = CompliancePolicy(
            review_every_days=settings.review_every_days,
            stale_after_days=settings.stale_access_days,
            max_token_days=settings.max_token_days,
            ack_target_seconds=settings.alert_ack_target_seconds,
            clock_tolerance_seconds=settings.clock_tolerance_seconds,
        )
        self.access = AccessLedger(stores.compliance, clock)
        self.revocations = RevocationList()
        self.sockets = LiveSockets(self.revocations)
        self.clock_offsets = ClockOffsets(clock)
        self.counters = SecurityCounters()
        self.security = SecurityLog(
            trail,
            clock,
            counters=self.counters,
            per_source=settings.security_log_per_source,
            overall=settings.security_log_overall,
        )
        self.reads = ReadLedger(trail, clock, audited=METRIC_READS, instance=settings.instance_name)
        self.delivery_health = DeliveryHealth(clock)
        self.evidence = Evidence(
            audit_store=stores.audit,
            compliance_store=stores.compliance,
            signer=self.signer,
            secrets=stores.notifications,
            retention=retention,  # domain/storage/retention (docs/retention.md)
            policy=self.policy,
        )
        self.jobs = Jobs(clock, [])
        self._follower: asyncio.Task[None] | None = None
        self._watcher: HealthWatcher | None = None
        self._checked: set[tuple[str, str]] = set()  # (project, slot) known done
        stores.notifications.use_cipher(self.cipher)

    def dependencies(self) -> dict[str, Any]:
        """What compliance handlers name (infra/bootstrap/routing.py)."""
        return {
            "compliance_store": self.stores.compliance,
            "audit_signer": self.signer,
            "access_ledger": self.access,
            "compliance_policy": self.policy,
            "compliance_evidence": self.evidence,
            "revocation_list": self.revocations,
            "clock_offsets": self.clock_offsets,
            "delivery_health": self.delivery_health,
            "instance_name": self.settings.instance_name,
            # what a manual run looks back over: the period, or a day when none is scheduled
            "compliance_check_seconds": self.settings.compliance_check_seconds or 86_400.0,
            "compliance_notify": self.settings.compliance_notify,
        }

    def health_checks(self, store_path: str) -> list[Any]:
        return [
            self.delivery_health,
            DiskProbe(
                store_path,
                warn_percent=self.settings.health_disk_warn_percent,
                down_percent=self.settings.health_disk_down_percent,
            ),
            JobsHealth(self.clock, lambda: list(self.jobs.jobs)),
        ]

    async def start(self, bus: MessageBus, events: EventBus, leases: LeaseStore) -> None:
        s = self.settings
        resealed = await self.stores.notifications.reseal_all()
        if resealed:
            logger.info(
                "sealed %d notification secrets under key %d", resealed, self.cipher.current_version
            )
        await self.revocations.refresh(self.stores.compliance)
        ready = asyncio.Event()
        self._follower = asyncio.create_task(
            follow(
                events,
                AccessRevokedEvent.channel_for(SYSTEM_PROJECT),
                self._on_revocation,
                ready=ready,
                on_gap=lambda: self.revocations.refresh(self.stores.compliance),
            )
        )
        with contextlib.suppress(TimeoutError):  # a bus that is down: the refresh job covers
            await asyncio.wait_for(ready.wait(), 5)

        async def checkpoints() -> int:
            return await write_checkpoints(
                evidence=self.evidence,
                leases=leases,
                owner=s.instance_name,
                clock=self.clock,
                every_us=int(s.audit_checkpoint_seconds * 1_000_000),
            )

        async def scheduled() -> int:
            return await self._scheduled_checks(bus)

        self.jobs = Jobs(
            self.clock,
            [
                Job("access", s.access_flush_seconds, self.access.flush),
                Job("reads", 60.0, self.reads.flush),
                Job("security", 5.0, self.security.flush),
                Job(
                    "revocations",
                    s.revocation_refresh_seconds,
                    lambda: self.revocations.refresh(self.stores.compliance),
                ),
                Job("checkpoints", s.audit_checkpoint_seconds, checkpoints),
            ]
            + (
                [Job("compliance_checks", min(s.compliance_check_seconds, 300.0), scheduled)]
                if s.compliance_check_seconds > 0
                else []
            ),
        )
        await self.jobs.start()
        self._watcher = HealthWatcher(
            bus.ask,
            bus.publish,
            self.clock,
            instance=s.instance_name,
            interval_seconds=s.health_watch_seconds,
        )
        await self._watcher.start()

    async def close(self) -> None:
        if self._watcher is not None:
            await self._watcher.close()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        self.sockets.close()
        await self.jobs.close(final=_FINAL)
        with contextlib.suppress(Exception):  # the last hour's reads: written, not lost
            await self.reads.flush(everything=True)
        with contextlib.suppress(Exception):
            await self.security.flush(force=True)

    def metric_points(self) -> list[dict[str, Any]]:
        """The security counters and collectors' clock offsets, for self-monitoring to
        record in the `system` project each interval."""
        points = []
        for (metric, project, reason), total in sorted(self.counters.totals.items()):
            tags = {k: v for k, v in (("project", project), ("reason", reason)) if v}
            points.append(monitor_point(f"vigil.security.{metric}_total", total, "counter", tags))
        for (project, source), offset in sorted(self.clock_offsets.drain().items()):
            tags = {"project": project, "source": source or "(no source)"}
            points.append(monitor_point(CLOCK_OFFSET_METRIC, offset, "gauge", tags))
        return points

    async def _on_revocation(self, message: dict[str, Any]) -> None:
        try:
            event = from_message(message)
        except UnknownEvent:
            return
        if isinstance(event, AccessRevokedEvent):
            self.revocations.apply_event(event)

    async def _scheduled_checks(self, bus: MessageBus) -> int:
        """The current period's run of each project, if no instance has done it yet."""
        every_us = int(self.settings.compliance_check_seconds * 1_000_000)
        now = self.clock.now_us()
        period = now // every_us
        slot = f"every-{every_us // 1_000_000}s-{period}"
        ran = 0
        for project in await self.stores.audit.projects():
            if (project, slot) in self._checked:
                continue
            run = await check_project(
                project,
                slot=slot,
                start_us=period * every_us - every_us,
                scheduled=True,
                owner=self.settings.instance_name,
                evidence=self.evidence,
                ask=bus.ask,
                clock=self.clock,
                publish=bus.publish,
            )
            if run is not None:  # ours; another instance's is retried until it finishes
                ran += 1
                self._checked.add((project, slot))
        return ran
