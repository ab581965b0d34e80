"""Issue 12, item 11: control and bidi characters are refused in metric names, tag keys and
tag values, and a tag value spelled in NFC or NFD names one series (stored in NFC)."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

import pytest

from tests.support import RunningVigil, token

ADMIN = token(demo="admin")
CREATE = """mutation($points: PointBatch!) {
  createMetrics(project: "demo", points: $points) { accepted ids } }"""
LIST = """query($name: String!, $matchers: [TagMatcherInput!]) {
  metrics(project: "demo", name: $name, matchers: $matchers, first: 100) {
    items { id value tags } } }"""
NAMES = '{ metricNames(project: "demo") }'

NFC = unicodedata.normalize("NFC", "Zürich café")
NFD = unicodedata.normalize("NFD", NFC)


def now_ms() -> int:
    return int(time.time() * 1000)


async def listed(vigil: RunningVigil, name: str, **tags: str) -> list[dict[str, Any]]:
    matchers = [{"key": k, "value": v} for k, v in tags.items()]
    data = await vigil.ok(LIST, {"name": name, "matchers": matchers}, auth=ADMIN)
    items: list[dict[str, Any]] = data["metrics"]["items"]
    return items


async def test_nfc_and_nfd_spellings_of_a_tag_value_are_one_series(vigil: RunningVigil) -> None:
    assert NFC != NFD
    stamp = now_ms() - 10_000
    one_batch = [
        {"name": "temp", "value": 1.0, "timestamp": stamp, "tags": {"city": NFC}},
        {"name": "temp", "value": 2.0, "timestamp": stamp + 1, "tags": {"city": NFD}},
    ]
    await vigil.ok(CREATE, {"points": one_batch}, auth=ADMIN)
    alone = [{"name": "temp", "value": 3.0, "timestamp": stamp + 2, "tags": {"city": NFD}}]
    await vigil.ok(CREATE, {"points": alone}, auth=ADMIN)
    entry = [{"name": "temp", "tags": {"city": NFD}, "timestamps": [stamp + 3], "values": [4.0]}]
    await vigil.ok(CREATE, {"points": entry}, auth=ADMIN)

    items = await listed(vigil, "temp")
    assert sorted(i["value"] for i in items) == [1.0, 2.0, 3.0, 4.0]
    assert {i["tags"]["city"] for i in items} == {NFC}  # stored in NFC
    assert len({i["id"][:16] for i in items}) == 1  # a point id starts with its series id
    # Either spelling selects the series.
    assert len(await listed(vigil, "temp", city=NFD)) == 4
    assert len(await listed(vigil, "temp", city=NFC)) == 4


@pytest.mark.parametrize(
    ("point", "field", "char"),
    [
        ({"name": "cpu\x00x", "tags": {}}, "name", "U+0000"),
        ({"name": "cpu", "tags": {"ho\u200fst": "a"}}, "a tag key", "U+200F"),
        ({"name": "cpu", "tags": {"user": "abc\u202etxt.exe"}}, "tag 'user' value", "U+202E"),
        ({"name": "cpu", "tags": {"user": "a\u2066b"}}, "tag 'user' value", "U+2066"),
        ({"name": "cpu", "tags": {"user": "a\u061cb"}}, "tag 'user' value", "U+061C"),
        ({"name": "cpu", "tags": {"user": "line\nbreak"}}, "tag 'user' value", "U+000A"),
        ({"name": "cpu", "tags": {"user": "c1\x85"}}, "tag 'user' value", "U+0085"),
    ],
)
async def test_control_and_bidi_characters_are_refused_and_nothing_is_stored(
    vigil: RunningVigil, point: dict[str, Any], field: str, char: str
) -> None:
    stamp = now_ms() - 10_000
    good = {"name": "cpu", "value": 1.0, "timestamp": stamp, "tags": {"user": "ok"}}
    bad = {**point, "value": 2.0, "timestamp": stamp}
    for points in (
        [good, bad],
        # the series-entry form goes through the columnar checks
        [
            {"name": "cpu", "tags": {"user": "ok"}, "timestamps": [stamp], "values": [1.0]},
            {"name": bad["name"], "tags": bad["tags"], "timestamps": [stamp], "values": [2.0]},
        ],
    ):
        body = await vigil.gql(CREATE, {"points": points}, auth=ADMIN)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        (refused,) = error["extensions"]["errors"]
        assert refused["index"] == 1, refused
        assert f"{field} holds a control or bidi character ({char})" in refused["reason"]
    assert await listed(vigil, "cpu") == []
    assert (await vigil.ok(NAMES, auth=ADMIN))["metricNames"] == []
