"""AlertStore contract: `save_changes`, what an evaluator writes after a tick, on every store."""

from __future__ import annotations

from dataclasses import replace

from domain.alerting.model import AlertState
from domain.alerting.ports import AlertStore
from domain.alerting.state import InstanceState
from tests.contract.alerting_data import ACKED, ODD_KEYS, alert, by_key, transition


async def test_changes_of_several_alerts_land_as_if_written_one_by_one(
    alerts: AlertStore,
) -> None:
    for alert_id in ("a1", "a2", "a3"):
        await alerts.save_alert(alert(alert_id))
    await alerts.save_instances("a1", [InstanceState(key=("kept",), state=AlertState.FIRING)])
    odd = [InstanceState(key=k, state=AlertState.PENDING, since_us=7) for k in ODD_KEYS]
    fired = [transition(10, AlertState.FIRING), transition(11, AlertState.RESOLVED)]

    await alerts.save_changes(
        {
            "a1": ([ACKED], fired),
            "a2": (odd, []),
            "a3": ([], [transition(12, AlertState.PENDING, key=("h2",))]),
        }
    )

    assert by_key(await alerts.load_instances("a1")) == {
        ("kept",): InstanceState(key=("kept",), state=AlertState.FIRING),
        ACKED.key: ACKED,
    }
    assert by_key(await alerts.load_instances("a2")) == by_key(odd)
    assert await alerts.load_instances("a3") == []
    assert await alerts.list_transitions("alpha", "a1") == fired[::-1]
    assert [t.instance_key for t in await alerts.list_transitions("alpha", "a3")] == [("h2",)]
    assert await alerts.list_transitions("alpha", "a2") == []


async def test_the_last_state_of_a_key_wins_and_order_is_kept_within_a_microsecond(
    alerts: AlertStore,
) -> None:
    await alerts.save_alert(alert("a1"))
    first = InstanceState(key=("h1",), state=AlertState.PENDING, since_us=1)
    last = replace(first, state=AlertState.FIRING, since_us=2)
    same_time = [transition(5, AlertState.PENDING), transition(5, AlertState.FIRING)]
    await alerts.save_changes({"a1": ([first], same_time[:1])})

    await alerts.save_changes({"a1": ([first, last], same_time[1:])})

    assert await alerts.load_instances("a1") == [last]
    assert await alerts.list_transitions("alpha", "a1") == same_time[::-1]


async def test_nothing_to_save_writes_nothing(alerts: AlertStore) -> None:
    await alerts.save_alert(alert("a1"))

    await alerts.save_changes({})
    await alerts.save_changes({"a1": ([], [])})

    assert await alerts.load_instances("a1") == []
    assert await alerts.list_transitions("alpha", "a1") == []
