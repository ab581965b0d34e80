"""Pricing through /graphql: admins configure it (audited, compare-and-set on its
version), readers read it, others are refused; bad prices are refused with
BAD_USER_INPUT and change nothing; a price change inside a bucket splits it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.cost_support import (
    ADMIN,
    CONFIGURE,
    EDITOR,
    HOUR_MS,
    MAPPING,
    PRICES,
    PRICING,
    VIEWER,
    iso,
    load_example,
    report,
)
from tests.support import RunningVigil, token

AUDIT = """query($p: String!, $a: String!) { auditLog(project: $p, action: $a) {
  actor outcome target changes { field old new } } }"""


async def configure(
    vigil: RunningVigil, prices: Any = None, mapping: Any = None, auth: str = ADMIN, **extra: Any
) -> dict[str, Any]:
    variables = {
        "p": "demo",
        "prices": PRICES if prices is None else prices,
        "mapping": MAPPING if mapping is None else mapping,
        **extra,
    }
    return await vigil.gql(CONFIGURE, variables, auth=auth)


async def read(vigil: RunningVigil, auth: str = VIEWER) -> dict[str, Any]:
    found: dict[str, Any] = (await vigil.ok(PRICING, {"p": "demo"}, auth=auth))["pricing"]
    return found


def code(body: dict[str, Any]) -> str:
    assert body.get("data") is None or not any(body["data"].values()), body
    found: str = body["errors"][0]["extensions"]["code"]
    return found


async def test_an_admin_configures_pricing_readers_read_it_and_it_is_audited(
    vigil: RunningVigil,
) -> None:
    empty = await read(vigil)
    assert (empty["version"], empty["prices"], empty["currency"]) == (0, [], "")

    body = await configure(vigil, v=0)
    saved = body["data"]["configurePricing"]
    assert (saved["version"], saved["currency"], saved["updatedBy"]) == (1, "USD", "ann")
    assert saved["prices"][0] == {
        "resource": "cpu_cores",
        "unit": "core-hour",
        "price": "0.031",
        "currency": "USD",
        "validFrom": "1970-01-01T00:00:00Z",
    }
    assert await read(vigil) == saved

    found = await vigil.ok(AUDIT, {"p": "demo", "a": "ConfigurePricingCommand"}, auth=ADMIN)
    entry = found["auditLog"][-1]
    assert (entry["actor"], entry["outcome"]) == ("ann", "ok")
    assert entry["target"] == {"project": "demo", "pricing_version": "1"}
    assert {c["field"] for c in entry["changes"]} >= {"prices", "metrics"}


async def test_a_stale_version_is_a_conflict_and_changes_nothing(vigil: RunningVigil) -> None:
    await configure(vigil)
    cheaper = copy.deepcopy(PRICES)
    cheaper[0]["price"] = "0.02"
    assert (await configure(vigil, cheaper, v=1))["data"]["configurePricing"]["version"] == 2
    stale = await configure(vigil, PRICES, v=1)
    assert code(stale) == "CONFLICT"
    assert stale["errors"][0]["extensions"]["current_version"] == 2
    assert (await read(vigil))["prices"][0]["price"] == "0.02"


async def test_only_admins_configure_and_only_members_read(vigil: RunningVigil) -> None:
    assert code(await configure(vigil, auth=EDITOR)) == "FORBIDDEN"
    assert code(await configure(vigil, auth=VIEWER)) == "FORBIDDEN"
    other = token("eve", other="admin")
    assert code(await vigil.gql(PRICING, {"p": "demo"}, auth=other)) == "FORBIDDEN"
    assert code(await configure(vigil, auth=other)) == "FORBIDDEN"
    assert (await read(vigil))["version"] == 0


def _with(change: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    prices = copy.deepcopy(PRICES)
    prices[index].update(change)
    return prices


BAD_PRICES = {
    "negative": (_with({"price": "-0.01"}), "zero or more"),
    "unknown currency": (_with({"currency": "USX"}), "ISO 4217"),
    "two currencies": (_with({"currency": "EUR"}, 1), "one currency"),
    "unknown resource": (_with({"resource": "gpu_cores"}), "no resource 'gpu_cores'"),
    "unit of another resource": (_with({"unit": "GiB-hour"}), "not measured in bytes"),
    "held priced per quantity": (_with({"unit": "core"}), "per period"),
    "unknown unit": (_with({"unit": "core-fortnight"}), "not a quantity"),
    "overlapping valid-from": (
        [*PRICES, {**PRICES[0], "price": "0.05"}],
        "valid from the same time",
    ),
    "not a number": (_with({"price": "cheap"}), ""),
    "not finite": (_with({"price": "NaN"}), "zero or more"),
    "before 1970": (_with({"validFrom": "1969-12-31T00:00:00Z"}), "after 1970"),
    "none": ([], "at least one price"),
}


@pytest.mark.parametrize("case", list(BAD_PRICES))
async def test_bad_prices_are_refused_and_change_nothing(vigil: RunningVigil, case: str) -> None:
    await configure(vigil)
    before = await read(vigil)
    prices, message = BAD_PRICES[case]
    body = await configure(vigil, prices)
    assert code(body) == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]
    assert await read(vigil) == before


BAD_MAPPINGS = {
    "unpriced resource": (
        {"resource": "disk_bytes", "role": "USAGE", "metric": "disk.used"},
        "has no price",
    ),
    "role twice": ({"resource": "cpu_cores", "role": "USAGE", "metric": "x"}, "two usage"),
    "cost itself": (
        {"resource": "cpu_cores", "role": "USAGE", "metric": "vigil.cost.total"},
        "vigil.cost",
    ),
}


@pytest.mark.parametrize("case", list(BAD_MAPPINGS))
async def test_bad_mappings_are_refused(vigil: RunningVigil, case: str) -> None:
    extra, message = BAD_MAPPINGS[case]
    mapping = copy.deepcopy(MAPPING)
    if case == "cost itself":
        mapping["metrics"][1] = extra
    else:
        mapping["metrics"].append(extra)
    body = await configure(vigil, mapping=mapping)
    assert code(body) == "BAD_USER_INPUT" and message in body["errors"][0]["message"]
    same_tags = await configure(vigil, mapping={**MAPPING, "nodeTag": "owner"})
    assert code(same_tags) == "BAD_USER_INPUT"
    assert (await read(vigil))["version"] == 0


async def test_a_price_change_splits_the_hours_it_falls_in(vigil: RunningVigil) -> None:
    """CPU from 0.031 to 0.05 a core-hour 2.5 hours into the example, one bucket of 4 hours.
    api: 2.5 cores x (2.5 h x 0.031 + 1.5 h x 0.05) = 0.38125; memory 4 GiB x 4 h x 0.004 =
    0.064; 0.44525 -> 0.45 (and in buckets of an hour, the same)."""
    start = await load_example(vigil)
    change = {**PRICES[0], "price": "0.05", "validFrom": iso(start + 5 * HOUR_MS // 2)}
    assert "errors" not in await configure(vigil, [*PRICES, change])
    variables = {"from": iso(start), "to": iso(start + 4 * HOUR_MS)}
    one = await vigil.ok(
        """query($from: DateTime, $to: DateTime, $step: String) {
          costReport(project: "demo", from: $from, to: $to, step: $step) {
            total rows { tags cost } } }""",
        {**variables, "step": "4h"},
        auth=VIEWER,
    )
    rows = {r["tags"]["owner"]: r["cost"] for r in one["costReport"]["rows"]}
    assert rows["api"] == "0.45"
    hourly = await report(vigil, start, step="1h")
    assert hourly["rows"][0]["values"][2] == pytest.approx(2.5 * (0.5 * 0.031 + 0.5 * 0.05) + 0.016)


async def test_a_report_without_pricing_or_with_a_bad_range_is_refused(
    vigil: RunningVigil,
) -> None:
    no_pricing = await vigil.gql('query { costReport(project: "demo") { total } }', auth=VIEWER)
    assert code(no_pricing) == "NOT_FOUND"
    await configure(vigil)
    for args in ('from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"', 'step: "0s"'):
        body = await vigil.gql(
            f'query {{ costReport(project: "demo", {args}) {{ total }} }}', auth=VIEWER
        )
        assert code(body) == "BAD_USER_INPUT", args
