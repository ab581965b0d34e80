"""What each recipient channel of a scheduled report is given."""

from __future__ import annotations

from domain.notifications.model import Channel, ChannelKind, DeliveryReason
from domain.reports.delivery import FileRef, ReportAttachment, report_deliveries

SLOT = 1_773_129_600_000_000  # 2026-03-10 08:00 UTC, 09:00 in Berlin
FILES = [
    FileRef("cpu.pdf", "application/pdf", 6_000),
    FileRef("cpu.csv", "text/csv", 5_000),
]
MAIL = Channel("m1", "demo", "mail", ChannelKind.EMAIL)
HOOK = Channel("h1", "demo", "hook", ChannelKind.WEBHOOK)
SLACK = Channel("s1", "demo", "chat", ChannelKind.SLACK)


def deliveries(limit: int, trigger: str = "schedule") -> dict[str, list[ReportAttachment]]:
    made = report_deliveries(
        project="demo",
        title="Weekly CPU",
        run_id="run9",
        slot_us=SLOT,
        timezone="Europe/Berlin",
        trigger=trigger,
        files=FILES,
        channels=[MAIL, HOOK, SLACK],
        link=lambda run, name: f"https://v/reports/{run}/{name}?sig=x",
        now_us=SLOT,
        attach_limit=limit,
    )
    assert [d.id for d in made] == ["report-run9-m1", "report-run9-h1", "report-run9-s1"]
    assert {d.reason for d in made} == {DeliveryReason.REPORT}
    assert all("for 2026-03-10 09:00 (Europe/Berlin)" in d.message.body for d in made)
    return {
        d.channel_id: [ReportAttachment.from_dict(a) for a in d.message.attachments] for d in made
    }


def test_email_attaches_what_fits_in_all_and_links_the_rest() -> None:
    made = deliveries(limit=10_000)
    assert [(a.name, a.attach) for a in made["m1"]] == [("cpu.pdf", True), ("cpu.csv", False)]
    assert all(a.url == f"https://v/reports/run9/{a.name}?sig=x" for a in made["m1"])


def test_http_channels_get_links_only() -> None:
    made = deliveries(limit=10**9)
    assert [a.attach for a in made["h1"] + made["s1"]] == [False] * 4
    assert [a.attach for a in made["m1"]] == [True, True]


def test_the_email_body_says_why_a_file_is_not_attached() -> None:
    made = report_deliveries(
        project="demo",
        title="Weekly CPU",
        run_id="run9",
        slot_us=SLOT,
        timezone="UTC",
        trigger="catch_up",
        files=FILES[:1],
        channels=[MAIL],
        link=lambda run, name: f"/reports/{run}/{name}",
        now_us=SLOT,
        attach_limit=1024,
    )
    body = made[0].message.body
    assert "- cpu.pdf (5.9 kB): /reports/run9/cpu.pdf" in body
    assert "cpu.pdf (5.9 kB) is above the 1.0 kB attachment limit" in body
    assert "this is the one catch-up run" in body
