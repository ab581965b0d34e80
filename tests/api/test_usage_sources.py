"""What the other features add to usage, through the real app: notifications delivered to
a real HTTP receiver, rule evaluations (and the rules' reads), reports rendered."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from domain.reports.events import ReportGeneratedEvent
from tests.api.usage_support import runner, send, usage
from tests.notifications_support import CONFIGURE, CREATE_ALERT, TEST_SEND, receiver, webhook
from tests.support import make_settings, serve, token

ADMIN = token(demo="admin")
UNUSED = 'query { unusedMetrics(project: "demo", days: 1) { metric } }'


async def test_notifications_rules_and_reports_are_counted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, notify_allow_loopback=True, notify_tick_seconds=3600)
    with receiver(tmp_path) as hook:
        async with serve(settings) as vigil:
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook.url)}, auth=ADMIN)
            channel = made["configureNotification"]["id"]
            for _ in range(2):
                await vigil.ok(TEST_SEND, {"p": "demo", "id": channel}, auth=ADMIN)
            hook.wait_for(2)
            await send(vigil, ADMIN)
            rule = {"name": "busy", "metric": "http.requests", "threshold": 90, "window": "5m"}
            await vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=ADMIN)
            app = vigil.app.state.vigil
            event = ReportGeneratedEvent(
                "demo", "r1", "run1", "PDF", 1000, "0" * 64, 12.0, time.time_ns() // 1000, "manual"
            )
            await app.bus.publish(event)
            await app.bus.publish(replace(event, status="failed", run_id="run2"))
            usage_runner = runner(vigil)
            usage_runner.sample_rules()  # the clock's time since the runner started
            await usage_runner.flush(everything=True)

            (total,) = (await usage(vigil, ADMIN))["totals"]
            assert total["notificationsSent"] == 2  # delivered, to the receiver
            assert total["reportsRendered"] == 1  # the failed run rendered nothing
            assert total["ruleEvaluations"] > 0  # one per tick of the running rule
            # The rule reads its metric: of the three, only the other two are unused.
            unused = await vigil.ok(UNUSED, auth=ADMIN)
            assert [m["metric"] for m in unused["unusedMetrics"]] == ["queue.depth", "disk.free"]
