"""Debian Prometheus scrapes Debian node-exporter and remote-writes to a real `vigil serve`:
the series arrive with their labels, values and metadata, and a restart of Vigil while
Prometheus sends loses nothing that Prometheus considers sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import VigilProcess, free_port
from tests.e2e.senders import require, running, wait_until

pytestmark = pytest.mark.e2e

CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1m
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ["127.0.0.1:{node_port}"]}}]
remote_write:
  - url: {vigil_url}/api/v1/write
    authorization: {{credentials: "{token}"}}
    remote_timeout: 5s
    queue_config: {{batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}}
    metadata_config: {{send: true, send_interval: 1s}}
"""
_POINTS = """
query ($name: String!, $job: String!) {
  metrics(project: "demo", name: $name, first: 1000,
          matchers: [{key: "job", value: $job}]) { items { value tags timestamp } }
}
"""


def vigil_query(vigil: VigilProcess, auth: str, query: str, **variables: Any) -> Any:
    answer = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]


def prometheus_query(url: str, query: str) -> list[Any]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=10).json()
    assert answer["status"] == "success", answer
    result: list[Any] = answer["data"]["result"]
    return result


def own_metric(url: str, name: str) -> float:
    """A metric of Prometheus itself, read from its /metrics (it does not scrape itself)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name) and line[len(name)] in "{ ":
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def stored_ms(vigil: VigilProcess, auth: str, name: str) -> list[tuple[int, float]]:
    items = vigil_query(vigil, auth, _POINTS, name=name, job="node")["metrics"]["items"]
    return sorted(
        (round(datetime.fromisoformat(p["timestamp"]).timestamp() * 1000), p["value"])
        for p in items
    )


def test_prometheus_remote_write_with_a_restart_of_vigil(
    vigil_process: Callable[..., VigilProcess], tmp_path: Path
) -> None:
    prometheus = require("prometheus", "prometheus")
    node_exporter = require("prometheus-node-exporter", "prometheus-node-exporter")
    vigil = vigil_process()
    collector = vigil.token("--subject", "prometheus", "--project", "demo", "--role", "collector")
    reader = vigil.token("--subject", "alice", "--project", "demo", "--role", "admin")
    node_port, prom_port = free_port(), free_port()
    prom_url = f"http://127.0.0.1:{prom_port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(node_port=node_port, vigil_url=vigil.url, token=collector))
    node_args = [
        node_exporter,
        f"--web.listen-address=127.0.0.1:{node_port}",
        "--collector.disable-defaults",
        "--collector.loadavg",
        "--collector.meminfo",
        "--collector.cpu",
    ]
    prom_args = [
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ]
    node_ready = f"http://127.0.0.1:{node_port}/metrics"
    with (
        running(node_args, tmp_path / "node.log", ready=node_ready),
        running(prom_args, tmp_path / "prometheus.log", ready=f"{prom_url}/-/ready"),
    ):
        # node-exporter's series arrive with their labels and values.
        def arrived() -> list[tuple[int, float]]:
            return stored_ms(vigil, reader, "node_memory_MemTotal_bytes")

        assert wait_until(arrived, timeout=60), "no node-exporter series reached Vigil"
        (total,) = prometheus_query(prom_url, 'node_memory_MemTotal_bytes{job="node"}')
        point = vigil_query(vigil, reader, _POINTS, name="node_memory_MemTotal_bytes", job="node")
        first = point["metrics"]["items"][0]
        assert first["tags"] == {"instance": f"127.0.0.1:{node_port}", "job": "node"}
        assert first["value"] == float(total["value"][1])
        cpu = vigil_query(vigil, reader, _POINTS, name="node_cpu_seconds_total", job="node")
        assert {"cpu", "mode", "instance", "job"} <= set(cpu["metrics"]["items"][0]["tags"])

        # Metadata (type and help) arrives on its own and is shown by metricMetadata.
        def described() -> Any:
            found = vigil_query(
                vigil,
                reader,
                '{ metricMetadata(project: "demo", prefix: "node_load1") { name type help } }',
            )["metricMetadata"]
            return found if found and found[0]["help"] else None

        load = wait_until(described, timeout=30)
        assert load[0] == {"name": "node_load1", "type": "GAUGE", "help": "1m load average."}

        # A restart while Prometheus sends: Prometheus retries, nothing it sent is lost.
        vigil.stop()
        restarted_s = float(prometheus_query(prom_url, "time()")[0])
        vigil.start()

        highest_sent = "prometheus_remote_storage_queue_highest_sent_timestamp_seconds"

        def caught_up() -> bool:
            return own_metric(prom_url, highest_sent) > restarted_s + 3

        assert wait_until(caught_up, timeout=60), "Prometheus did not catch up after the restart"
        sent_until_ms = 1000 * own_metric(prom_url, highest_sent)
        (scraped,) = prometheus_query(prom_url, 'up{job="node"}[10m]')
        sent = {
            int(float(t) * 1000) for t, _ in scraped["values"] if float(t) * 1000 <= sent_until_ms
        }
        stored = {t for t, _ in stored_ms(vigil, reader, "up")}
        assert min(sent) < restarted_s * 1000 < max(sent)  # sent before, during and after
        assert sent - stored == set()  # every sample Prometheus sent was stored
        # none refused (4xx) or dropped by Prometheus
        assert own_metric(prom_url, "prometheus_remote_storage_samples_failed_total") == 0
        assert own_metric(prom_url, "prometheus_remote_storage_samples_dropped_total") == 0
        assert own_metric(prom_url, "prometheus_remote_storage_samples_retried_total") > 0
