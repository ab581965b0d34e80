"""AlertStore contract: transition history and durability, on every store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from domain.alerting.model import (
    MINUTE_US,
    AlertState,
    Reason,
    Transition,
)
from domain.alerting.ports import AlertStore
from tests.contract.alerting_data import (
    ACKED,
    alert,
    alerts_of,
    full_rule,
    transition,
)
from tests.contract.conftest import StoreFactory
from tests.contract.data import NOW_US

T0 = NOW_US


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
        assert await db.leases.acquire_lease("evaluator", "ann", now_us=T0, ttl_us=MINUTE_US)  # type: ignore[attr-defined]
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
        leases = db.leases  # type: ignore[attr-defined]
        assert not await leases.acquire_lease("evaluator", "bob", now_us=T0 + 1, ttl_us=MINUTE_US)
        assert await leases.acquire_lease("evaluator", "ann", now_us=T0 + 1, ttl_us=MINUTE_US)
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
