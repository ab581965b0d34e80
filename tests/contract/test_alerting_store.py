"""AlertStore contract: alerts and their instances, on every store."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from domain.alerting.model import (
    AlertSeverity,
    AlertState,
)
from domain.alerting.ports import AlertStore
from domain.alerting.state import Acknowledgement, InstanceState
from tests.contract.alerting_data import ACKED, ODD_KEYS, alert, by_key, full_rule, transition
from tests.contract.data import NOW_US

T0 = NOW_US


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

    assert by_key(loaded) == by_key(states)
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

    assert by_key(await alerts.load_instances("a1")) == {
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


async def test_alerts_are_listed_a_page_at_a_time_in_creation_order(alerts: AlertStore) -> None:
    # Three share a creation time: the id breaks the tie, so no page repeats or skips one.
    made = [alert(f"a{n}", created=0 if n < 3 else n) for n in (2, 0, 1, 4, 3)]
    for a in made:
        await alerts.save_alert(a)
    await alerts.save_alert(alert("b0", "beta"))

    pages: list[list[str]] = []
    after: str | None = None
    while page := await alerts.list_alerts("alpha", after=after, first=2):
        pages.append([a.id for a in page])
        after = page[-1].id

    assert pages == [["a0", "a1"], ["a2", "a3"], ["a4"]]
    assert await alerts.list_alerts("alpha", after="b0") == []  # another project's id
    assert await alerts.list_alerts("alpha", after="missing", first=2) == []
