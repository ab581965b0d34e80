"""`VIGIL_COMPLIANCE_CHECK_SECONDS=0` turns the scheduled checks off (a manual run still
works, looking back a day), so a daily scan of every alert's history does not land in the
middle of a benchmark's measurement."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.api.compliance_support import POINTS, RUN
from tests.support import make_settings, serve, token

RUNS = """query($p: String!) { complianceChecks(project: $p, first: 10) { run } }"""
ADMIN = token(demo="admin")


async def test_with_the_period_at_zero_no_check_is_scheduled_but_one_can_be_run(
    tmp_path: Path,
) -> None:
    off = make_settings(tmp_path / "off", compliance_check_seconds=0)
    on = make_settings(tmp_path / "on", compliance_check_seconds=1)
    found = {}
    for name, settings in (("off", off), ("on", on)):
        async with serve(settings) as vigil:
            await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "x", "value": 1}]}, auth=ADMIN)
            await asyncio.sleep(2.5)  # a scheduled run is due within a second of being
            runs = (await vigil.ok(RUNS, {"p": "demo"}, auth=ADMIN))["complianceChecks"]
            found[name] = [r["run"] for r in runs]
            if name == "off":
                ran = (await vigil.ok(RUN, {"p": "demo"}, auth=ADMIN))["runComplianceCheck"]
                assert ran["run"].startswith("manual-") and ran["status"] in ("PASS", "FAIL")
    assert found["off"] == []
    assert any(r.startswith("every-1s-") for r in found["on"])
