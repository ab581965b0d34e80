"""Dashboard pieces without I/O: steps, variables, rates, colours, documents, built-ins."""

from __future__ import annotations

from typing import Any

import pytest

from domain.dashboards import ALL, read_spec
from domain.dashboards.data import color_of, rate_of
from domain.dashboards.steps import auto_step, bucket_count, widget_pixels
from domain.dashboards.variables import bind, resolve_values
from domain.dashboards.widgets import SECOND_US
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from infra.dashboards.builtin import SYSTEM_DOCUMENT, system_dashboard
from infra.selfmon import SelfMonitor

HOUR = 3_600 * SECOND_US


def spec(**changes: Any) -> Any:
    widget = {
        "kind": "timeseries",
        "layout": {"x": 0, "y": 0, "w": 24, "h": 6},
        "queries": [
            {
                "metric": "cpu",
                "matchers": [
                    {"key": "host", "op": "=", "value": "$host"},
                    {"key": "dc", "op": "=~", "value": "${dc}-.*"},
                ],
            }
        ],
    }
    document = {
        "name": "d",
        "variables": [
            {"name": "host", "tag": "host"},
            {"name": "dc", "tag": "dc", "default": "eu"},
        ],
        "widgets": [widget],
    } | changes
    return read_spec(document)


@pytest.mark.parametrize("pixels", [1, 7, 100, 480, 961, 1920, 11_000])
@pytest.mark.parametrize("span", [60 * SECOND_US, HOUR, 24 * HOUR, 400 * 24 * HOUR])
def test_the_auto_step_never_gives_more_points_than_pixels(pixels: int, span: int) -> None:
    start = 1_700_000_123_456_789
    step = auto_step(start, start + span, pixels)
    assert bucket_count(start, start + span, step) <= pixels
    assert step % SECOND_US == 0


def test_widget_pixels_follow_its_columns() -> None:
    assert widget_pixels(12, 1920) == 960
    assert widget_pixels(1, 100) == 4
    assert widget_pixels(1, 10) == 1


def test_variables_bind_into_matchers() -> None:
    s = spec()
    query = s.widgets[0].queries[0]
    values = resolve_values(s, {"host": "web.1"})
    assert values == {"host": "web.1", "dc": "eu"}
    assert bind(query, values) == (
        TagMatcher("host", MatchOp.EQ, "web.1"),
        TagMatcher("dc", MatchOp.REGEX, "eu-.*"),
    )
    everything = bind(query, {"host": ALL, "dc": "a.b"})
    assert everything == (TagMatcher("dc", MatchOp.REGEX, r"a\.b-.*"),)
    with pytest.raises(BadUserInput, match=r"unknown variable\(s\) \$zone"):
        resolve_values(s, {"zone": "x"})


def test_a_counter_rate_skips_gaps_and_resets() -> None:
    assert rate_of([10.0, None, 30.0, 5.0, 15.0], 10 * SECOND_US) == [None, None, 1.0, None, 1.0]


def test_the_colour_is_that_of_the_highest_threshold_reached() -> None:
    s = read_spec(
        {
            "name": "d",
            "widgets": [
                {
                    "kind": "stat",
                    "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
                    "queries": [{"metric": "cpu"}],
                    "thresholds": [
                        {"value": 90, "color": "red"},
                        {"value": None, "color": "blue"},
                        {"value": 70, "color": "#ff8800"},
                    ],
                }
            ],
        }
    )
    widget = s.widgets[0]
    assert [color_of(widget, v) for v in (None, 10, 70, 89.9, 95)] == [
        None,
        "blue",
        "#ff8800",
        "#ff8800",
        "red",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": ""}, "name: must not be empty"),
        ({"timeRange": 5}, "timeRange: must be between 60"),
        ({"refresh": 0.5}, "refresh: must be 0"),
        ({"variables": [{"name": "1x", "tag": "h"}]}, "variables[0].name"),
        (
            {
                "widgets": [
                    {
                        "kind": "stat",
                        "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
                        "queries": [{"metric": "a"}, {"metric": "b"}],
                    }
                ]
            },
            "exactly one query",
        ),
        (
            {
                "widgets": [
                    {
                        "kind": "stat",
                        "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
                        "queries": [{"metric": "a"}],
                        "thresholds": [{"value": 1, "color": "red;}"}],
                    }
                ]
            },
            "colour name",
        ),
        (
            {
                "widgets": [
                    {
                        "kind": "gauge",
                        "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
                        "queries": [{"metric": "a"}],
                        "min": 5,
                        "max": 5,
                    }
                ]
            },
            "max: must be above min",
        ),
        (
            {
                "widgets": [
                    {
                        "kind": "timeseries",
                        "layout": {"x": 0, "y": 0, "w": 4, "h": 4},
                        "queries": [{"metric": "a", "rate": True, "aggregation": "avg"}],
                    }
                ]
            },
            "counter's last or max",
        ),
        ({"format": "grafana"}, "format: must be 'vigil-dashboard/1'"),
    ],
)
def test_a_bad_document_names_each_problem(document: dict[str, Any], message: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        read_spec({"name": "d"} | document)
    assert message in raised.value.message


def test_a_document_survives_its_own_round_trip() -> None:
    s = spec()
    assert read_spec(s.to_dict()) == s
    exported = s.to_dict(with_ids=False)
    assert all("id" not in w for w in exported["widgets"])
    assert read_spec(exported) == s  # ids are given again by position


def test_the_system_dashboard_reads_what_the_self_monitor_records() -> None:
    monitor = SelfMonitor(instance="test:1")
    monitor.observe_request(0.01, 200)
    recorded = {p["name"] for p in monitor.snapshot(subscriptions=0)}
    used = {q["metric"] for w in SYSTEM_DOCUMENT["widgets"] for q in w.get("queries", ())}
    assert used and used <= recorded, used - recorded
    tags = {t for p in monitor.snapshot(subscriptions=0) for t in p["tags"]}
    assert {"instance", "code"} <= tags
    assert system_dashboard(0).spec.name == "Vigil system"
