"""Notification test helpers: a real HTTP receiver process, and the GraphQL operations."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The receiver: answers the statuses given on its command line in turn (then 200 for
# ever), "hang" holds the connection open without answering; records every request.
RECEIVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log, plan = sys.argv[1], sys.argv[2].split(",") if sys.argv[2] else []
seen = 0
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        entry = {"at": time.time(), "path": self.path, "headers": dict(self.headers),
                 "body": body.decode()}
        with open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")
        step = plan[seen] if seen < len(plan) else "200"
        seen += 1
        if step == "hang":
            time.sleep(3600)
        code, _, retry_after = step.partition("/")
        self.send_response(int(code))
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "14")
        self.end_headers()
        self.wfile.write(b"secret-answer!")
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@dataclass
class Receiver:
    url: str
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"receiver got {len(self.requests())} requests, wanted {count}")


@contextmanager
def receiver(tmp_path: Path, plan: str = "", name: str = "receiver") -> Iterator[Receiver]:
    """A real HTTP server process on 127.0.0.1; `plan` such as "500,500" or "429/1,hang"."""
    log = tmp_path / f"{name}.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(log), plan], stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield Receiver(f"http://127.0.0.1:{port}/hook", log)
    finally:
        process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


CONFIGURE = """mutation($p: String!, $c: NotificationChannelInput, $id: ID, $v: Int, $d: Boolean) {
  configureNotification(project: $p, channel: $c, channelId: $id, expectedVersion: $v,
                        delete: $d) {
    id name kind url hasSecret version enabled recipients smtpHost titleTemplate } }"""
POLICY = """mutation($p: String!, $policy: JSONObject) {
  configureNotificationPolicy(project: $p, policy: $policy) { version default policy } }"""
TEST_SEND = """mutation($p: String!, $id: ID!) { sendTestNotification(project: $p, channelId: $id) {
  id state status title body attempts { statusCode latencyMs error } } }"""
DELIVERIES = """query($p: String!, $state: NotificationDeliveryState, $c: ID) {
  notificationDeliveries(project: $p, state: $state, channelId: $c) {
    id channelId reason status title body state createdAt nextAttemptAt
    attempts { at statusCode latencyMs error } } }"""
CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
CREATE_ALERT = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""
SILENCE = """mutation($p: String!, $m: [String!]!, $end: DateTime!) {
  createSilence(project: $p, matchers: $m, endsAt: $end, comment: "maintenance") {
    id state matchers createdBy } }"""
EXPIRE = """mutation($p: String!, $id: ID!) { expireSilence(project: $p, silenceId: $id) {
  id state } }"""
ACK = """mutation($p: String!, $id: ID!, $i: Tags) {
  acknowledgeAlert(project: $p, alertId: $id, instance: $i, comment: "mine") { state } }"""


# A webhook key: 24 bytes at least (shorter ones are refused).
HOOK_SECRET = "s3cr3t-key-of-more-than-24-bytes"


def webhook(url: str, **fields: Any) -> dict[str, Any]:
    return {"name": "ops hook", "kind": "WEBHOOK", "url": url, "secret": HOOK_SECRET} | fields
