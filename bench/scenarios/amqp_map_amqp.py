"""Scenario 3: RabbitMQ -> map -> RabbitMQ, consumer acks and publisher confirms.

``bench.in`` is preloaded with BENCH_AMQP_MESSAGES (default 100,000) persistent copies of the
order; then the consumer starts (pinned to core 0) and the output queue is polled. The rate
is taken from the first output seen to the last, so start-up is left out. splice
(bench/projects/amqp-map-amqp, prefetch 200) against the hand-written aiormq ceiling
(bench/ceiling/amqp_map_amqp.py, prefetch 200). There is no shared Node-RED flow for this
scenario, so Node-RED is not part of it.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import amqp_util
import setup_peers
from http_xml_amqp import skip_reason
from lib import BENCH, FIXTURES, PEERS, SPLICE, VENV_PY, Server, log

ID = "amqp-map-amqp"
N = int(os.environ.get("BENCH_AMQP_MESSAGES", "100000"))
TIMEOUT = float(os.environ.get("BENCH_AMQP_TIMEOUT", "300"))


def _drain(server: Server, out_queue: str) -> dict[str, Any]:
    amqp_util.reset("bench.in", out_queue)
    started = time.perf_counter()
    amqp_util.preload("bench.in", (FIXTURES / "order.json").read_bytes(), N)
    log(f"{server.name}: preloaded {N} messages in {time.perf_counter() - started:.1f}s")
    first: tuple[float, int] | None = None
    last = (0.0, 0)
    with server:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if server.proc is not None and server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited; see {server.log_path}")
            done = amqp_util.count(out_queue)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
            last = (now, done)
            if done >= N:
                break
            time.sleep(0.25)
        mem = server.rss()
    amqp_util.reset("bench.in", out_queue)
    if first is None or last[1] <= first[1]:
        raise RuntimeError(f"{server.name}: no progress ({last[1]} of {N} published)")
    rate = (last[1] - first[1]) / (last[0] - first[0])
    log(
        f"{server.name}: {rate:.0f} msg/s ({last[1]} of {N}), peak RSS {mem['VmHWM'] / 1024:.0f} MB"
    )
    return {"msgs_per_s": rate, "delivered": last[1], "peak_rss_mb": mem["VmHWM"] / 1024}


def run() -> dict[str, Any]:
    reason = skip_reason()
    if reason:
        log(f"skipped: {reason}")
        return {"id": ID, "metric": "msg/s", "skipped": reason}
    contestants = {
        "splice": (
            Server(
                "splice",
                [
                    SPLICE,
                    "run",
                    str(BENCH / "projects" / "amqp-map-amqp"),
                    "--log-level",
                    "warning",
                    "--port",
                    "0",
                ],
                log_path=PEERS / "logs" / f"splice-{ID}.log",
            ),
            "bench.out.splice",
        ),
        "ceiling": (
            Server(
                "ceiling",
                [VENV_PY, str(BENCH / "ceiling" / "amqp_map_amqp.py")],
                env=setup_peers.py_env(),
                log_path=PEERS / "logs" / f"ceiling-{ID}.log",
            ),
            "bench.out.ceiling",
        ),
    }
    runs: dict[str, dict[str, Any]] = {}
    for name, (server, queue) in contestants.items():
        try:
            runs[name] = _drain(server, queue)
        except Exception as error:
            log(f"{name} failed: {error}")
            runs[name] = {"error": str(error)}
    return {
        "id": ID,
        "metric": "msg/s",
        **{name: r.get("msgs_per_s") for name, r in runs.items()},
        "peak_rss_mb": {name: r.get("peak_rss_mb") for name, r in runs.items()},
        "details": runs,
        "targets": {"splice/ceiling": 0.8},
        "notes": f"{N:,} messages preloaded; delivered within {TIMEOUT:.0f}s: "
        + ", ".join(f"{k} {r.get('delivered', 0):,}" for k, r in runs.items())
        + "; no Node-RED flow for this scenario",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
