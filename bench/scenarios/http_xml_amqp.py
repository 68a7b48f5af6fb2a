"""Scenario 2: HTTP JSON -> XML -> RabbitMQ (publisher confirms) -> reply.

splice (bench/projects/http-xml-amqp, amqp sink with confirms to ``e2e.splice``), Node-RED
with the shared flow (node-red-contrib-amqp to ``e2e.nr``, no confirms) and the hand-written
ceiling (uvicorn + aio-pika with confirms to ``e2e.ceiling``). Queues are emptied before and
after each run. Needs RabbitMQ at BENCH_AMQP_URL and splice's ``amqp`` connector.
"""

from __future__ import annotations

import json
from typing import Any

import amqp_util
import http_json_xml
import setup_peers
from lib import BENCH, PEERS, ROOT, SPLICE, VENV_PY, Server, free_port, log

ID = "http-xml-amqp"
QUEUES = ("e2e.splice", "e2e.nr", "e2e.ceiling")


def skip_reason() -> str | None:
    if not (ROOT / "src" / "splice" / "connectors" / "amqp").is_dir():
        return "splice has no amqp connector yet"
    return amqp_util.reachable()


def splice_server(port: int) -> Server:
    return Server(
        "splice",
        [
            SPLICE,
            "run",
            str(BENCH / "projects" / "http-xml-amqp"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        log_path=PEERS / "logs" / f"splice-{ID}.log",
    )


def nodered_server(port: int) -> Server:
    server = http_json_xml.nodered_server(port, flow="http-xml-to-amqp.json")
    server.log_path = PEERS / "logs" / f"node-red-{ID}.log"
    return server


def ceiling_server(port: int) -> Server:
    return Server(
        "ceiling",
        [VENV_PY, str(BENCH / "ceiling" / "http_xml_amqp.py"), str(port)],
        env=setup_peers.py_env(),
        log_path=PEERS / "logs" / f"ceiling-{ID}.log",
    )


def run() -> dict[str, Any]:
    reason = skip_reason()
    if reason:
        log(f"skipped: {reason}")
        return {"id": ID, "metric": "req/s", "skipped": reason}
    runs: dict[str, dict[str, Any]] = {}
    queued: dict[str, int] = {}
    for (name, factory), queue in zip(
        (("splice", splice_server), ("node-red", nodered_server), ("ceiling", ceiling_server)),
        QUEUES,
    ):
        amqp_util.reset(queue)
        port = free_port()
        try:
            runs[name] = http_json_xml.measure(factory(port), port)
            queued[name] = amqp_util.count(queue)
        except Exception as error:
            log(f"{name} failed: {error}")
            runs[name] = {"error": str(error)}
        amqp_util.reset(queue)
    return {
        "id": ID,
        "metric": "req/s",
        **{name: r.get("rps") for name, r in runs.items()},
        "p50_ms": {name: r.get("p50_ms") for name, r in runs.items()},
        "p99_ms": {name: r.get("p99_ms") for name, r in runs.items()},
        "peak_rss_mb": {name: r.get("peak_rss_mb") for name, r in runs.items()},
        "details": runs,
        "queued": queued,
        "targets": {"splice/node-red": 1.0, "splice/ceiling": 0.8},
        "notes": "Node-RED publishes without confirms; messages that reached the queue "
        + json.dumps(queued)
        + " (warm-up included)"
        + "".join(
            f"; {n}: {r['invalid']} (figure not valid)" for n, r in runs.items() if r.get("invalid")
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
