"""Fan-out benchmark arithmetic: acknowledgement rates, latencies, losses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ack_latency", "ack_rate", "analyse"]


def ack_rate(acked: dict[float, float]) -> float | None:
    """Acknowledgements per second, from the first send to the last acknowledgement."""
    if len(acked) < 2:
        return None
    return round(len(acked) / (max(acked.values()) - min(acked)), 1)


def ack_latency(acked: dict[float, float]) -> dict[str, float | None]:
    """Send -> acknowledgement of the publisher's requests (queueing included)."""
    waits = np.asarray([ack - sent for sent, ack in acked.items()]) * 1000
    if not len(waits):
        return {"p50": None, "p99": None}
    return {
        "p50": round(float(np.percentile(waits, 50)), 2),
        "p99": round(float(np.percentile(waits, 99)), 2),
    }


def analyse(
    outputs: list[tuple[int, Path]],
    acked: dict[float, float],
    *,
    clients: int,
    sockets_per_client: int,
) -> dict[str, Any]:
    """Per-socket receipts (saved by each client process) against the acknowledged sends."""
    sent = np.asarray(sorted(acked), dtype=np.float64)
    ack = np.asarray([acked[s] for s in sorted(acked)], dtype=np.float64)
    per_socket = len(sent)
    keys, lat_ack, lat_send = [], [], []
    for index_of_client, out in outputs:
        sock = np.load(out.with_suffix(".sock.npy")) + index_of_client * sockets_per_client
        val = np.load(out.with_suffix(".val.npy"))
        t = np.load(out.with_suffix(".t.npy"))
        index = np.clip(np.searchsorted(sent, val), 0, max(0, per_socket - 1))
        known = sent[index] == val if per_socket else np.zeros(len(val), dtype=bool)
        keys.append(sock[known].astype(np.int64) * per_socket + index[known])
        lat_ack.append(t[known] - ack[index[known]])
        lat_send.append(t[known] - sent[index[known]])
    all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    latency = np.concatenate(lat_ack) * 1000 if lat_ack else np.zeros(0)
    from_send = np.concatenate(lat_send) * 1000 if lat_send else np.zeros(0)
    unique, first = np.unique(all_keys, return_index=True)
    latency, from_send = latency[first], from_send[first]  # a duplicate counts once
    sockets = clients * sockets_per_client

    def pct(a: np.ndarray, q: float) -> float | None:
        return round(float(np.percentile(a, q)), 2) if len(a) else None

    return {
        "deliveries": len(all_keys),
        "duplicates": int(len(all_keys) - len(unique)),
        "lost": int(per_socket * sockets - len(unique)),
        "latency_ms": {
            "p50": pct(latency, 50),
            "p90": pct(latency, 90),
            "p99": pct(latency, 99),
            "max": pct(latency, 100),
            "min": pct(latency, 0),
        },
        "latency_from_send_ms": {"p50": pct(from_send, 50), "p99": pct(from_send, 99)},
    }
