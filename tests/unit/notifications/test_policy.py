"""Routing trees, mute timings, silences, deduplication and templates, one piece at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import BadUserInput
from domain.notifications import Policy, Silence, SilenceState
from domain.notifications.grouping import Sent, needs_update
from domain.notifications.messages import one_line
from domain.notifications.policy import parse_matcher
from infra.notifications.templates import JinjaRenderer


def us(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)  # type: ignore[misc]


TREE = Policy.parse(
    {
        "route": {
            "channels": ["default"],
            "group_wait": "10s",
            "routes": [
                {"matchers": ['severity="critical"'], "channels": ["pager"], "continue": True},
                {
                    "matchers": ['team=~"db|storage"'],
                    "channels": ["db"],
                    "group_by": ["..."],
                    "routes": [{"matchers": ['env!="prod"'], "repeat_interval": "1d"}],
                },
            ],
        }
    }
)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "warning"}, [("0", ("default",))]),
        ({"severity": "critical"}, [("0.0", ("pager",))]),
        (
            {"severity": "critical", "team": "db", "env": "prod"},
            [("0.0", ("pager",)), ("0.1", ("db",))],
        ),
        ({"team": "storage", "env": "dev"}, [("0.1.0", ("db",))]),
    ],
)
def test_routes_match_depth_first_with_continue(
    labels: dict[str, str], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    leaves = TREE.route.match(labels)
    assert [(leaf.path, leaf.channels) for leaf in leaves] == expected


def test_children_inherit_unset_settings() -> None:
    (leaf,) = TREE.route.match({"team": "db", "env": "dev"})
    assert leaf.group_wait_us == 10_000_000  # from the root
    assert leaf.group_interval_us == 300_000_000  # Alertmanager's default
    assert leaf.repeat_interval_us == 86_400_000_000  # its own
    assert leaf.group_by is None  # "...": every label


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"route": {"matchers": ['a="b"']}}, "root route"),
        ({"route": {"group_interval": 0}}, "must be positive"),
        ({"route": {"mute_time_intervals": ["x"]}}, "unknown mute timings"),
        ({"route": {"routes": [{"matchers": ["not a matcher"]}]}}, "not a matcher"),
        ({"route": {"routes": [{"matchers": ['a=~"("']}]}}, "invalid regex"),
        ({"rooute": {}}, "unknown policy fields"),
        (
            {"mute_timings": [{"name": "n", "time_intervals": [{"location": "Mars/Base"}]}]},
            "time zone",
        ),
        (
            {"mute_timings": [{"name": "n", "time_intervals": [{"weekdays": ["friday:monday"]}]}]},
            "backwards",
        ),
    ],
)
def test_bad_policies_are_refused(policy: dict[str, object], message: str) -> None:
    with pytest.raises(BadUserInput, match=message):
        Policy.parse(policy)


def test_a_policy_reads_back_as_it_was_written() -> None:
    again = Policy.parse(TREE.to_dict())
    assert again.to_dict() == TREE.to_dict()


def test_mute_timings_follow_weekdays_and_hours_in_their_time_zone() -> None:
    policy = Policy.parse(
        {
            "mute_timings": [
                {
                    "name": "nights",
                    "time_intervals": [
                        {
                            "weekdays": ["monday:friday"],
                            "times": [{"start_time": "22:00", "end_time": "24:00"}],
                            "location": "America/New_York",
                        }
                    ],
                }
            ]
        }
    )
    nights = policy.timing("nights")
    assert nights is not None
    assert nights.active(us(2026, 12, 2, 3, 30))  # Tue 22:30 in New York
    assert not nights.active(us(2026, 12, 2, 2, 59))  # Tue 21:59
    assert not nights.active(us(2026, 12, 6, 3, 30))  # Sat 22:30: not a weekday listed


def test_silences_match_labels_between_start_and_end() -> None:
    silence = Silence.create(
        id="s",
        project="demo",
        matchers=[parse_matcher('host=~"web-.*"')],
        starts_us=100,
        ends_us=200,
        now_us=50,
        created_by="alice",
        comment="",
    )
    assert silence.state(50) is SilenceState.PENDING
    assert silence.mutes({"host": "web-1"}, 150) and not silence.mutes({"host": "db-1"}, 150)
    assert not silence.mutes({"host": "web-1"}, 200)
    assert silence.expired(120).state(120) is SilenceState.EXPIRED
    with pytest.raises(BadUserInput, match="empty label"):
        Silence.create(
            id="s", project="demo", matchers=[parse_matcher('host=~".*"')], starts_us=0,
            ends_us=10, now_us=0, created_by="", comment="",
        )  # fmt: skip


def test_deduplication_as_alertmanager() -> None:
    a, b = frozenset({"a"}), frozenset({"a", "b"})
    none: frozenset[str] = frozenset()
    told = Sent(a, none, at_us=0)
    options = {"send_resolved": True, "repeat_interval_us": 100}
    assert needs_update(None, a, none, now_us=0, **options)  # type: ignore[arg-type]
    assert not needs_update(None, none, a, now_us=0, **options)  # type: ignore[arg-type]
    assert needs_update(told, b, none, now_us=1, **options)  # type: ignore[arg-type]
    assert not needs_update(told, a, none, now_us=99, **options)  # type: ignore[arg-type]
    assert needs_update(told, a, none, now_us=100, **options)  # type: ignore[arg-type]
    assert needs_update(told, none, a, now_us=1, **options)  # type: ignore[arg-type]
    quiet = {"send_resolved": False, "repeat_interval_us": 100}
    assert not needs_update(told, none, a, now_us=1, **quiet)  # type: ignore[arg-type]


async def test_templates_run_sandboxed_and_titles_stay_on_one_line() -> None:
    renderer = JinjaRenderer()
    try:
        context = {"a": {"labels": {"host": "web-1"}}}
        assert await renderer.render("{{ a.labels.host }}!", context) == "web-1!"
        with pytest.raises(ValueError, match=r"SecurityError|unsafe"):
            await renderer.render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
        assert await renderer.render("[{{ missing.label }}]", {}) == "[]"
    finally:
        await renderer.close()
    assert renderer.check("{% for %}") is not None
    assert renderer.check("{{ missing.label }}") is None
    assert one_line("a\r\nBcc: x@y\u2028z") == "a Bcc: x@y z"
