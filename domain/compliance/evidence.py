"""Gathering the evidence of each check: the audit chain walked, other features asked.

Other features are read through their queries (`ask`), as any caller would: alerts and
their history, notification channels and the policy, the collectors' clock offsets that
self-monitoring records in the `system` project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.access import SYSTEM_PROJECT
from domain.alerting.model import AlertState
from domain.alerting.queries import GetAlertHistoryQuery, GetAlertsListQuery
from domain.compliance import checks
from domain.compliance.model import CheckResult
from domain.compliance.ports import AuditSigner, ComplianceStore, RetentionEvidence, SecretsAtRest
from domain.compliance.read_models import AuditVerificationDto
from domain.compliance.reviews import CompliancePolicy
from domain.compliance.verification import ChainWalk
from domain.errors import VigilError
from domain.matchers import MatchOp, TagMatcher
from domain.messagebus import Ask
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.notifications.queries import GetNotificationPolicyQuery, ListNotificationsQuery
from domain.system.model import GENESIS
from domain.system.ports import AuditStore

__all__ = ["CLOCK_OFFSET_METRIC", "Evidence", "gather_checks", "verify_chain"]

CLOCK_OFFSET_METRIC = "vigil.collector.clock_offset_seconds"
PAGE = 1_000
MAX_ALERTS = 1_000
_ANSWERS = frozenset({AlertState.ACKNOWLEDGED, AlertState.RESOLVED, AlertState.OK})


async def verify_chain(
    project: str,
    start_us: int | None,
    end_us: int | None,
    *,
    audit_store: AuditStore,
    compliance_store: ComplianceStore,
    signer: AuditSigner,
) -> AuditVerificationDto:
    """Walk the chain over [start, end) (all of it when both are None)."""
    head = await audit_store.head(project)
    head_index = head.chain_index if head is not None else 0
    checkpoints = await compliance_store.checkpoints(project)
    anchor = (0, GENESIS)
    if start_us is not None:
        first = await audit_store.first_index_at(project, start_us)
        if first is None:  # nothing recorded since `start`: nothing to walk
            first = head_index + 1
        # The range starts at `first`: its link to the entry before is taken as given.
        before = await audit_store.chain(project, after_index=first - 1, first=1)
        anchor = (first - 1, before[0].prev_hash if before else GENESIS)
    walk = ChainWalk(anchor, checkpoints, signer)
    after, reached_end = anchor[0], False
    while True:
        page = await audit_store.chain(project, after_index=after, first=PAGE)
        inside = [e for e in page if end_us is None or e.timestamp_us < end_us]
        if not await asyncio.to_thread(walk.walk, inside):  # hashing is CPU: off the loop
            break
        if len(inside) < len(page) or len(page) < PAGE:
            reached_end = len(page) < PAGE and len(inside) == len(page)
            break
        after = page[-1].chain_index
    walk.finish(head_index, walked_to_head=reached_end)
    latest = max(checkpoints, key=lambda c: c.chain_index, default=None)
    return AuditVerificationDto(
        project=project,
        start_us=start_us,
        end_us=end_us,
        entries=walk.entries,
        first_index=anchor[0] + 1 if walk.entries else 0,
        last_index=walk.last_index if walk.entries else 0,
        head_index=head_index,
        checkpoints=walk.verified_checkpoints,
        last_checkpoint=latest,
        first_break=walk.first_break,
    )


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the checks read, bound at start-up (infra/bootstrap)."""

    audit_store: AuditStore
    compliance_store: ComplianceStore
    signer: AuditSigner
    secrets: SecretsAtRest
    retention: RetentionEvidence | None
    policy: CompliancePolicy


async def gather_checks(
    project: str, start_us: int, end_us: int, now_us: int, *, evidence: Evidence, ask: Ask
) -> list[CheckResult]:
    """Every check of the project over [start, end), in the order of `checks.CHECKS`."""
    store, policy = evidence.compliance_store, evidence.policy
    chain = await verify_chain(
        project,
        start_us,
        None,  # to the head: a tampered entry after `end` still breaks the log
        audit_store=evidence.audit_store,
        compliance_store=store,
        signer=evidence.signer,
    )
    sealed = chain.last_checkpoint.chain_index if chain.last_checkpoint else 0
    unsealed = await evidence.audit_store.chain(project, after_index=sealed, first=1)
    reviews = await store.list_reviews(project, first=100)
    revoked = await store.revocations(project)
    usage = await store.usage(project)
    retention = (
        await evidence.retention.retention(project, start_us, end_us)
        if evidence.retention is not None
        else None
    )
    return [
        checks.audit_chain(chain, unsealed[0].timestamp_us if unsealed else None, now_us),
        checks.access_review(reviews, now_us, policy),
        checks.revocations(reviews, revoked, usage),
        checks.token_expiry(usage, start_us, end_us, policy),
        checks.secrets_encrypted(await evidence.secrets.secrets_status(project)),
        checks.retention(retention),
        checks.alert_response(
            await alert_response(ask, project, start_us, end_us, now_us, policy), policy
        ),
        checks.monitoring_coverage(await coverage(ask, project)),
        checks.clock_skew(await clock_offsets(ask, project, start_us, end_us), policy),
    ]


async def alert_response(
    ask: Ask, project: str, start_us: int, end_us: int, now_us: int, policy: CompliancePolicy
) -> checks.AlertResponse:
    target_us = policy.ack_target_seconds * 1_000_000
    fired = answered = waiting = 0
    late: list[str] = []
    page = await ask(GetAlertsListQuery(project, first=MAX_ALERTS))
    for dto in page.items:
        history = await ask(GetAlertHistoryQuery(project, dto.alert.id, first=PAGE))
        moves = sorted(history, key=lambda t: t.at_us)
        for i, move in enumerate(moves):
            if move.to_state is not AlertState.FIRING or move.from_state is AlertState.FIRING:
                continue
            if not start_us <= move.at_us < end_us:
                continue
            fired += 1
            answer = next(
                (
                    m
                    for m in moves[i + 1 :]
                    if m.instance_key == move.instance_key and m.to_state in _ANSWERS
                ),
                None,
            )
            if answer is not None and answer.at_us - move.at_us <= target_us:
                answered += 1
            elif answer is None and now_us - move.at_us <= target_us:
                waiting += 1
            else:
                late.append(f"{dto.alert.id}/{'/'.join(move.instance_key) or '-'}")
    return checks.AlertResponse(fired, answered, late, waiting)


async def coverage(ask: Ask, project: str) -> checks.Coverage:
    page = await ask(GetAlertsListQuery(project, first=MAX_ALERTS))
    alerts = [dto.alert.id for dto in page.items if dto.alert.enabled]
    try:
        channels = await ask(ListNotificationsQuery(project))
    except VigilError as exc:  # stored, but not readable here (a key missing)
        return checks.Coverage(alerts, [], f"notification channels unreadable: {exc.message}")
    enabled = {dto.channel.id for dto in channels if dto.channel.enabled}
    view = await ask(GetNotificationPolicyQuery(project))
    routed = _channel_ids(view.policy)
    return checks.Coverage(alerts, sorted(enabled & routed))


def _channel_ids(node: Any) -> set[str]:
    """Every channel a policy document names (its routes' `channels` and `escalate_to`)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("channels", "escalate_to") and isinstance(value, list):
                found.update(str(v) for v in value)
            else:
                found |= _channel_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _channel_ids(item)
    return found


async def clock_offsets(ask: Ask, project: str, start_us: int, end_us: int) -> dict[str, float]:
    """Each source's offset farthest from zero over the period (self-monitoring records,
    per interval, the offset closest to zero that each source showed)."""
    worst: dict[str, float] = {}
    for aggregation in (Aggregation.MAX, Aggregation.MIN):
        query = GetMetricSeriesQuery(
            SYSTEM_PROJECT,
            CLOCK_OFFSET_METRIC,
            start_us,
            end_us,
            aggregation=aggregation,
            matchers=(TagMatcher("project", MatchOp.EQ, project),),
            group_by=("source",),
        )
        try:
            result = await ask(query)
        except VigilError:  # nothing recorded, or a range the store does not keep
            return worst
        for line in result.series:
            values: Sequence[float | None] = line.values
            value = next((v for v in values if v is not None), None)
            if value is None:
                continue
            source = line.tags.get("source", "") or "(no source)"
            if abs(value) > abs(worst.get(source, 0.0)):
                worst[source] = value
            worst.setdefault(source, value)
    return worst
