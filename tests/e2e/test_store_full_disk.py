"""A full disk under a real `vigil serve` with the DuckDB store on a small tmpfs (issue 12,
item 4): the log cannot be written, or a checkpoint cannot be. Writes are refused with
UNAVAILABLE and Retry-After, never INTERNAL; reads keep working; health says what is wrong;
once space is freed, writes are taken again without a restart; and every point that was
acknowledged is stored, before and after a kill -9."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.e2e.store_faults import Sender, codes, fill, poll, readyz, small_disk, top_up
from tests.support import token

pytestmark = pytest.mark.e2e

# Bounds: the disk fills within this many batches; once space is back, the first write is
# taken within RETURN_SECONDS (the reopen retries every 1 s at most: a 10x margin).
MAX_BATCHES = 400
RETURN_SECONDS = 10.0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", megabytes=16) as mounted:
        yield mounted


def refused_properly(sender: Sender) -> None:
    """Every refusal: UNAVAILABLE, a Retry-After header, a message that says why."""
    assert sender.refusals, "the disk never filled"
    for response in sender.refusals:
        assert response.status_code == 200, response.text
        assert codes(response) == ["UNAVAILABLE"], response.text
        assert int(response.headers["retry-after"]) >= 1
        assert "retry later" in response.json()["errors"][0]["message"]


def fill_up(sender: Sender) -> None:
    """Send until three writes in a row are refused."""
    in_a_row = 0
    for _ in range(MAX_BATCHES):
        in_a_row = 0 if sender.send() else in_a_row + 1
        if in_a_row == 3:
            return
    raise AssertionError(f"{sender.sent} batches sent, the disk never filled")


def test_a_full_log_refuses_writes_and_recovers_when_space_returns(
    disk: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    vigil = vigil_process(VIGIL_STORE_URL=f"duckdb:///{disk}/vigil.duckdb")
    sender = Sender(vigil, token("agent", disk="admin"))
    assert sender.send()
    filler = fill(disk, leave=64 * 1024)
    fill_up(sender)
    refused_properly(sender)
    # A collector endpoint (InfluxDB line protocol, 2,000 points of another metric) answers
    # 503 with Retry-After: agents retry.
    top_up(filler)
    influx = httpx.post(
        f"{vigil.url}/api/v2/write?org=o&bucket=b",
        content=b"".join(
            b"agent value=%d %d\n" % (i, (sender.start_ms - 10_000 + i) * 10**6)
            for i in range(2000)
        ),
        headers={"Authorization": f"Token {sender.auth}", "X-Vigil-Project": "disk"},
        timeout=10,
    )
    assert (influx.status_code, influx.headers.get("retry-after")) == (503, "1"), influx.text

    # Health tells the truth; reads keep working, and show every acknowledged point.
    status, body = readyz(vigil)
    assert status == 503 and body["status"] != "ok", body  # `disk` is down: under 2% free
    assert body["components"]["store"]["status"] == "degraded", body
    assert "disk is full" in body["components"]["store"]["detail"]
    sender.nothing_acknowledged_lost()

    filler.unlink()
    recovered = poll(sender.send, RETURN_SECONDS, "a write taken once space is back")
    print(f"\nfull log: first write taken {recovered:.3f} s after space was freed")
    poll(lambda: readyz(vigil)[1]["status"] == "ok", RETURN_SECONDS, "/readyz ok again")
    sender.nothing_acknowledged_lost()


def test_a_checkpoint_on_a_full_disk_reopens_the_store(
    disk: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    # A checkpoint every 256 KiB of log: one comes while the disk is full, and fails; DuckDB
    # then invalidates the database (it said INTERNAL for everything until a restart).
    vigil = vigil_process(
        VIGIL_STORE_URL=f"duckdb:///{disk}/vigil.duckdb",
        VIGIL_STORE_CHECKPOINT_BYTES=str(256 * 1024),
    )
    sender = Sender(vigil, token("agent", disk="admin"))
    assert sender.send()
    filler = fill(disk, leave=1024 * 1024)  # room for the log, not for a checkpoint
    fill_up(sender)
    refused_properly(sender)
    log = vigil.log.read_text()
    assert "invalidated the database" in log, log[-3000:]
    # The reopen runs in the background, beside the refusals.
    poll(
        lambda: re.search(r"store: reopened after [\d.]+ s", vigil.log.read_text()),
        RETURN_SECONDS,
        "the store reopened",
    )
    assert "Internal error" not in vigil.log.read_text()

    # Reopened, the store still says writes are refused (or, if the next checkpoint failed
    # too, that it is reopening again): the disk is as full as it was.
    _, body = readyz(vigil)
    assert body["status"] != "ok", body
    assert body["components"]["store"]["status"] != "ok", body
    assert re.search("disk (is|was) full", body["components"]["store"]["detail"]), body
    sender.nothing_acknowledged_lost()  # reads work on the reopened store

    filler.unlink()
    recovered = poll(sender.send, RETURN_SECONDS, "a write taken once space is back")
    print(f"\ncheckpoint: first write taken {recovered:.3f} s after space was freed")
    for _ in range(20):  # past the next checkpoint, which now succeeds
        assert sender.send(), sender.refusals[-1].text
    poll(lambda: readyz(vigil)[1]["status"] == "ok", RETURN_SECONDS, "/readyz ok again")
    sender.nothing_acknowledged_lost()

    vigil.kill()
    vigil.start()
    sender.nothing_acknowledged_lost()
