"""The alerting store: alerts per project with compare-and-set, instance states,
transitions newest first, leases that one owner holds at a time, and all of it durable."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from domain.alerting.alert import Alert
from domain.alerting.model import (
    MINUTE_US,
    SECOND_US,
    AlertSeverity,
    AlertState,
    Condition,
    FlappingSettings,
    NoDataPolicy,
    Reason,
    RuleAggregation,
    Transition,
)
from domain.alerting.ports import AlertStore
from domain.alerting.rule import AlertRule
from domain.alerting.state import Acknowledgement, InstanceState
from domain.metrics import MatchOp, TagMatcher
from tests.contract.conftest import StoreDatabase, StoreFactory
from tests.contract.data import NOW_US

T0 = NOW_US


def alerts_of(db: StoreDatabase) -> AlertStore:
    return cast(AlertStore, db.alerts)  # type: ignore[attr-defined]


@pytest.fixture
def alerts(store_db: StoreDatabase) -> AlertStore:
    return alerts_of(store_db)


def full_rule(name: str = "cpu high") -> AlertRule:
    """Every field away from its default, so that a lost field shows."""
    return AlertRule(
        name=name,
        metric="cpu.usage",
        threshold=90.5,
        condition=Condition.GE,
        aggregation=RuleAggregation.P95,
        window_us=5 * MINUTE_US,
        matchers=(
            TagMatcher("env", MatchOp.EQ, "prod"),
            TagMatcher("host", MatchOp.REGEX, "web-[0-9]+"),
        ),
        group_by=("host", "region"),
        severity=AlertSeverity.CRITICAL,
        warning_threshold=75.25,
        for_us=30 * SECOND_US,
        keep_firing_for_us=2 * MINUTE_US,
        recovery_threshold=70.0,
        no_data_policy=NoDataPolicy.KEEP_LAST,
        no_data_after_us=10 * MINUTE_US,
        flapping=FlappingSettings(history=10, low=0.2, high=0.6),
        description="CPU is high — über «quoted» $dollar.dot",
    )


def alert(
    alert_id: str,
    project: str = "alpha",
    *,
    created: int = 0,
    enabled: bool = True,
    rule: AlertRule | None = None,
) -> Alert:
    return Alert(
        id=alert_id,
        project=project,
        rule=rule or AlertRule(name=f"rule {alert_id}", metric="cpu", threshold=90.0),
        created_at_us=T0 + created,
        created_by="ann",
        enabled=enabled,
        template="",
    )


def transition(
    at: int, to: AlertState, key: tuple[str, ...] = ("h1",), frm: AlertState = AlertState.OK
) -> Transition:
    return Transition(
        instance_key=key,
        from_state=frm,
        to_state=to,
        at_us=T0 + at,
        value=91.5,
        threshold=90.0,
        reason=Reason.CROSSED,
        severity=AlertSeverity.CRITICAL,
        notify=True,
        by="",
        comment=f"at {at} to {to.value}",
    )


ACKED = InstanceState(
    key=("web-1", "eu-west"),
    state=AlertState.ACKNOWLEDGED,
    severity=AlertSeverity.WARNING,
    since_us=T0 - MINUTE_US,
    value=0.1 + 0.2,  # 0.30000000000000004: floats come back bit for bit
    last_point_us=T0 - 1,
    keep_firing_since_us=None,
    ack=Acknowledgement("bob", "looking — «into» it", T0 - 5, T0 + MINUTE_US),
    history=(AlertState.OK, AlertState.FIRING, AlertState.OK, AlertState.FIRING),
    flapping=True,
    notified_state=AlertState.FIRING,
    notified_severity=AlertSeverity.CRITICAL,
)
# Keys that a joined string or a careless encoding would confuse or lose.
ODD_KEYS: list[tuple[str, ...]] = [
    (),
    ("",),
    ("", ""),
    ("a\x1fb",),
    ("a", "b"),
    ('"quoted"', "back\\slash"),
    ("$dollar", "a.b"),
    ("ünïcödé", "日本"),
]


# -- alerts ---------------------------------------------------------------------------------


async def test_alerts_round_trip_and_list_oldest_first(alerts: AlertStore) -> None:
    rich = replace(alert("a-rich", created=2, rule=full_rule()), template="high-cpu", version=7)
    rich = replace(rich, updated_at_us=T0 + 9, updated_by="bob")
    saved = [
        rich,
        alert("a-first", created=1),
        alert("a-off", created=3, enabled=False),
        alert("b-one", "beta", created=0),
        alert("a-tie-b", created=5),
        alert("a-tie-a", created=5),
    ]
    for a in saved:
        assert await alerts.save_alert(a) is True

    assert await alerts.get_alert("alpha", "a-rich") == rich
    assert await alerts.get_alert("beta", "b-one") == saved[3]
    listed = await alerts.list_alerts("alpha")
    assert [a.id for a in listed] == ["a-first", "a-rich", "a-off", "a-tie-a", "a-tie-b"]
    assert listed[1] == rich
    assert [a.id for a in await alerts.list_alerts("beta")] == ["b-one"]
    assert await alerts.list_alerts("gamma") == []
    enabled = await alerts.enabled_alerts()
    assert sorted(a.id for a in enabled) == ["a-first", "a-rich", "a-tie-a", "a-tie-b", "b-one"]
    assert next(a for a in enabled if a.id == "a-rich") == rich


async def test_save_without_a_version_replaces(alerts: AlertStore) -> None:
    first = alert("a1")
    await alerts.save_alert(first)
    changed = first.changed(rule=full_rule("renamed"), enabled=False, at_us=T0 + 5, by="bob")

    assert await alerts.save_alert(changed) is True

    assert await alerts.get_alert("alpha", "a1") == changed
    assert await alerts.enabled_alerts() == []
    assert await alerts.list_alerts("alpha") == [changed]


async def test_a_foreign_id_answers_as_a_missing_one(alerts: AlertStore) -> None:
    mine = alert("a1", "alpha")
    await alerts.save_alert(mine)
    await alerts.save_instances("a1", [ACKED])
    await alerts.append_transitions("a1", [transition(1, AlertState.FIRING)])

    assert await alerts.get_alert("beta", "a1") is None
    assert await alerts.get_alert("alpha", "missing") is None
    assert await alerts.list_alerts("beta") == []
    assert await alerts.list_transitions("beta", "a1") == []
    assert await alerts.list_transitions("alpha", "missing") == []
    assert await alerts.delete_alert("beta", "a1") is False
    assert await alerts.delete_alert("alpha", "missing") is False
    # Another project's alert of the same id is neither replaced nor compared-and-set.
    assert await alerts.save_alert(replace(mine, project="beta")) is False
    intruder = replace(mine, project="beta", version=2)
    assert await alerts.save_alert(intruder, expected_version=1) is False

    assert await alerts.get_alert("alpha", "a1") == mine
    assert await alerts.get_alert("beta", "a1") is None
    assert await alerts.load_instances("a1") == [ACKED]
    assert len(await alerts.list_transitions("alpha", "a1")) == 1


async def test_compare_and_set_refuses_a_stale_version(alerts: AlertStore) -> None:
    v1 = alert("a1")
    await alerts.save_alert(v1)
    v2 = v1.changed(enabled=False, at_us=T0 + 1, by="ann")
    stale = v1.changed(rule=full_rule(), at_us=T0 + 2, by="bob")  # also made from v1

    assert await alerts.save_alert(v2, expected_version=1) is True
    assert await alerts.save_alert(stale, expected_version=1) is False

    assert await alerts.get_alert("alpha", "a1") == v2
    v3 = v2.changed(enabled=True, at_us=T0 + 3, by="bob")
    assert await alerts.save_alert(v3, expected_version=2) is True
    assert await alerts.get_alert("alpha", "a1") == v3


async def test_compare_and_set_on_a_missing_alert_writes_nothing(alerts: AlertStore) -> None:
    assert await alerts.save_alert(alert("ghost"), expected_version=1) is False
    assert await alerts.get_alert("alpha", "ghost") is None
    assert await alerts.list_alerts("alpha") == []


async def test_concurrent_compare_and_sets_one_wins(alerts: AlertStore) -> None:
    v1 = alert("a1")
    await alerts.save_alert(v1)
    candidates = [
        v1.changed(rule=full_rule(f"by {i}"), at_us=T0 + i, by=f"u{i}") for i in range(12)
    ]

    answers = await asyncio.gather(*(alerts.save_alert(c, expected_version=1) for c in candidates))

    assert sum(answers) == 1
    winner = candidates[answers.index(True)]
    assert await alerts.get_alert("alpha", "a1") == winner


async def test_delete_removes_the_alert_its_instances_and_history(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))
    await alerts.save_alert(alert("a2"))
    for alert_id in ("a1", "a2"):
        await alerts.save_instances(alert_id, [ACKED, InstanceState(key=("h1", "r1"))])
        await alerts.append_transitions(
            alert_id, [transition(i, AlertState.FIRING) for i in range(3)]
        )

    assert await alerts.delete_alert("alpha", "a1") is True

    assert await alerts.get_alert("alpha", "a1") is None
    assert [a.id for a in await alerts.list_alerts("alpha")] == ["a2"]
    assert await alerts.load_instances("a1") == []
    assert await alerts.list_transitions("alpha", "a1") == []
    assert await alerts.delete_alert("alpha", "a1") is False
    # The other alert keeps everything; an alert made again with the same id starts empty.
    assert len(await alerts.load_instances("a2")) == 2
    assert len(await alerts.list_transitions("alpha", "a2")) == 3
    await alerts.save_alert(alert("a1"))
    assert await alerts.load_instances("a1") == []
    assert await alerts.list_transitions("alpha", "a1") == []


# -- instances ------------------------------------------------------------------------------


async def test_instances_round_trip_exactly(alerts: AlertStore) -> None:
    states = [
        ACKED,
        InstanceState(),  # an ungrouped rule's only instance: the empty key
        InstanceState(
            key=("web-2", "us-east"),
            state=AlertState.PENDING,
            severity=AlertSeverity.CRITICAL,
            since_us=T0,
            value=-1.5e-300,
            last_point_us=T0,
            keep_firing_since_us=T0 + 1,
            ack=Acknowledgement("eve", "", T0, None),
            history=(),
        ),
        *(InstanceState(key=k, state=AlertState.FIRING, value=1e308) for k in ODD_KEYS[1:]),
    ]
    await alerts.save_instances("a1", states)

    loaded = await alerts.load_instances("a1")

    assert _by_key(loaded) == _by_key(states)
    assert len(loaded) == len(states)
    assert all(isinstance(s.key, tuple) for s in loaded)
    assert await alerts.load_instances("a2") == []


async def test_instances_are_replaced_by_key_and_others_stay(alerts: AlertStore) -> None:
    one, two = InstanceState(key=("h1",)), InstanceState(key=("h2",))
    await alerts.save_instances("a1", [one, two])
    await alerts.save_instances("other", [InstanceState(key=("h1",), state=AlertState.ERROR)])
    firing = one.evolve(state=AlertState.FIRING, since_us=T0, value=95.0)
    three = InstanceState(key=("h3",), state=AlertState.NODATA)

    await alerts.save_instances("a1", [firing, three])
    await alerts.save_instances("a1", [])

    assert _by_key(await alerts.load_instances("a1")) == {
        ("h1",): firing,
        ("h2",): two,
        ("h3",): three,
    }
    other = await alerts.load_instances("other")
    assert [s.state for s in other] == [AlertState.ERROR]


async def test_the_last_state_of_a_key_given_twice_wins(alerts: AlertStore) -> None:
    first = InstanceState(key=("h1",), state=AlertState.PENDING)
    last = first.evolve(state=AlertState.FIRING)

    await alerts.save_instances("a1", [first, last])

    assert await alerts.load_instances("a1") == [last]


# -- transitions ----------------------------------------------------------------------------


async def test_transitions_come_back_newest_first_and_page_back(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))
    await alerts.save_alert(alert("a2"))
    pending = transition(10, AlertState.PENDING)
    firing = transition(10, AlertState.FIRING, frm=AlertState.PENDING)  # same microsecond
    early = transition(5, AlertState.FIRING, key=("h2",))
    late = transition(20, AlertState.OK, frm=AlertState.FIRING)
    acked = replace(
        transition(30, AlertState.ACKNOWLEDGED, frm=AlertState.FIRING),
        value=None,
        threshold=None,
        severity=None,
        notify=False,
        reason=Reason.ACKNOWLEDGED,
        by="bob",
        comment="on it",
    )
    await alerts.append_transitions("a1", [pending, firing])
    await alerts.append_transitions("a1", [early])
    await alerts.append_transitions("a2", [transition(15, AlertState.FIRING)])
    await alerts.append_transitions("a1", [late, acked])
    await alerts.append_transitions("a1", [])

    newest = [acked, late, firing, pending, early]
    assert await alerts.list_transitions("alpha", "a1") == newest
    assert await alerts.list_transitions("alpha", "a1", first=2) == newest[:2]
    assert await alerts.list_transitions("alpha", "a1", first=0) == []
    assert await alerts.list_transitions("alpha", "a1", before_us=T0 + 20) == newest[2:]
    assert await alerts.list_transitions("alpha", "a1", first=1, before_us=T0 + 20) == [firing]
    assert await alerts.list_transitions("alpha", "a1", before_us=T0 + 5) == []
    assert await alerts.list_transitions("alpha", "a2") == [transition(15, AlertState.FIRING)]


async def test_paging_walks_all_transitions_once(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))
    recorded = [transition(i, AlertState.FIRING, key=(f"h{i}",)) for i in range(25)]
    for start in range(0, 25, 7):
        await alerts.append_transitions("a1", recorded[start : start + 7])

    seen: list[Transition] = []
    before: int | None = None
    while page := await alerts.list_transitions("alpha", "a1", first=10, before_us=before):
        seen += page
        before = page[-1].at_us

    assert seen == recorded[::-1]


# -- leases ---------------------------------------------------------------------------------


async def test_a_lease_has_one_owner_until_it_expires(alerts: AlertStore) -> None:
    ttl = 10 * SECOND_US

    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False
    assert await alerts.acquire_lease("other", "bob", now_us=T0 + 1, ttl_us=ttl) is True
    # Renewal by the owner moves the expiry: bob is still refused after the first one.
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 5, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + ttl, ttl_us=ttl) is False
    # Expired (expiry <= now): taken over, and the old owner is refused.
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 5 + ttl, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 6 + ttl, ttl_us=ttl) is False


async def test_only_the_owner_releases_a_lease(alerts: AlertStore) -> None:
    ttl = MINUTE_US
    await alerts.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=ttl)

    await alerts.release_lease("evaluator", "bob")
    await alerts.release_lease("missing", "ann")
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=ttl) is False

    await alerts.release_lease("evaluator", "ann")
    assert await alerts.acquire_lease("evaluator", "bob", now_us=T0 + 2, ttl_us=ttl) is True
    assert await alerts.acquire_lease("evaluator", "ann", now_us=T0 + 3, ttl_us=ttl) is False


@pytest.mark.parametrize("held_before", [False, True], ids=["free", "expired"])
async def test_concurrent_acquires_give_the_lease_to_one(
    alerts: AlertStore, held_before: bool
) -> None:
    ttl = MINUTE_US
    now = T0 + 2 * ttl
    if held_before:
        assert await alerts.acquire_lease("evaluator", "old", now_us=T0, ttl_us=ttl)
    owners = [f"owner-{i}" for i in range(16)]

    answers = await asyncio.gather(
        *(alerts.acquire_lease("evaluator", o, now_us=now, ttl_us=ttl) for o in owners)
    )

    assert sum(answers) == 1
    winner = owners[answers.index(True)]
    assert await alerts.acquire_lease("evaluator", winner, now_us=now + 1, ttl_us=ttl) is True
    losers = [o for o in owners if o != winner] + ["old"]
    for loser in losers:
        assert await alerts.acquire_lease("evaluator", loser, now_us=now + 1, ttl_us=ttl) is False


# -- durability -----------------------------------------------------------------------------


async def test_everything_survives_a_restart(store_factory: StoreFactory, tmp_path: Path) -> None:
    rich = replace(alert("a1", rule=full_rule()), template="high-cpu")
    history = [transition(i, AlertState.FIRING, key=("web-1", "eu-west")) for i in range(3)]
    db = await store_factory(tmp_path)
    try:
        store = alerts_of(db)
        await store.save_alert(rich)
        await store.save_alert(alert("a2", "beta", enabled=False))
        await store.save_instances("a1", [ACKED])
        await store.append_transitions("a1", history)
        assert await store.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=MINUTE_US)
    finally:
        await db.close()

    db = await store_factory(tmp_path)
    try:
        store = alerts_of(db)
        assert await store.get_alert("alpha", "a1") == rich
        assert [a.id for a in await store.list_alerts("beta")] == ["a2"]
        assert await store.enabled_alerts() == [rich]
        assert await store.load_instances("a1") == [ACKED]
        assert await store.list_transitions("alpha", "a1") == history[::-1]
        assert not await store.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=MINUTE_US)
        assert await store.acquire_lease("evaluator", "ann", now_us=T0 + 1, ttl_us=MINUTE_US)
        # Recording order survives a restart: of two transitions of one microsecond, the
        # one recorded after the restart still comes first.
        later = transition(1, AlertState.OK, key=("web-1", "eu-west"))
        await store.append_transitions("a1", [later])
        assert await store.list_transitions("alpha", "a1") == [
            history[2],
            later,
            history[1],
            history[0],
        ]
        v2 = rich.changed(enabled=False, at_us=T0 + 9, by="bob")
        assert await store.save_alert(v2, expected_version=1) is True
        assert await store.get_alert("alpha", "a1") == v2
    finally:
        await db.close()


def _by_key(states: list[InstanceState]) -> dict[tuple[str, ...], InstanceState]:
    return {s.key: s for s in states}
