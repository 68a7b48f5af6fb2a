"""Scenario 2: HTTP JSON -> XML -> RabbitMQ (publisher confirms) -> reply.

splice (bench/projects/http-xml-amqp, amqp sink with confirms to ``e2e.splice``), Node-RED
with the shared flow (node-red-contrib-amqp to ``e2e.nr``, no confirms) and the hand-written
ceiling (uvicorn + aio-pika with confirms to ``e2e.ceiling``). Each queue is declared afresh
before its run, all three of the same type: a quorum queue, RabbitMQ's durable queue for data
that must not be lost (``BENCH_AMQP_QUEUE_TYPE=classic`` for a classic queue), and emptied
after it. Needs RabbitMQ at BENCH_AMQP_URL and splice's ``amqp`` connector.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import amqp_util
import http_json_xml
import setup_peers
from lib import BENCH, PEERS, ROOT, SPLICE, VENV_PY, Server, free_port, log

ID = "http-xml-amqp"
QUEUES = ("e2e.splice", "e2e.nr", "e2e.ceiling")
QUEUE_TYPE = os.environ.setdefault("BENCH_AMQP_QUEUE_TYPE", "quorum")
if QUEUE_TYPE not in ("quorum", "classic"):
    raise SystemExit(f"BENCH_AMQP_QUEUE_TYPE={QUEUE_TYPE}: expected quorum or classic")
"""The type of the three queues; splice's flow and the ceiling read it from the environment."""


def skip_reason() -> str | None:
    if not (ROOT / "src" / "splice" / "connectors" / "amqp").is_dir():
        return "splice has no amqp connector yet"
    return amqp_util.reachable()


def _project() -> Path:
    """The scenario's splice project; a copy declaring another queue type if one is asked."""
    project = BENCH / "projects" / "http-xml-amqp"
    if QUEUE_TYPE == "quorum":
        return project
    copy = PEERS / "projects" / f"http-xml-amqp-{QUEUE_TYPE}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".splice"))
    flow = copy / "flows" / "order-to-queue.yaml"
    flow.write_text(flow.read_text().replace("x-queue-type: quorum", f"x-queue-type: {QUEUE_TYPE}"))
    return copy


def splice_server(port: int) -> Server:
    return Server(
        "splice",
        [
            SPLICE,
            "run",
            str(_project()),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        log_path=PEERS / "logs" / f"splice-{ID}.log",
    )


def _declare_queue_type(nodes: list[dict[str, Any]]) -> None:
    """The shared flow's AMQP node declares ``e2e.nr`` with no arguments, which RabbitMQ
    refuses for a quorum queue (PRECONDITION_FAILED: the node then publishes nothing). The
    server node's topology declares it first, with its type; the node then reuses it."""
    queue = {
        "name": "e2e.nr",
        "options": {"durable": True, "arguments": {"x-queue-type": QUEUE_TYPE}},
    }
    for node in nodes:
        if node.get("type") == "amqp-server":
            node["usetopology"] = True
            node["topology"] = json.dumps({"queues": [queue]})


def nodered_server(port: int) -> Server:
    server = http_json_xml.nodered_server(
        port, flow="http-xml-to-amqp.json", edit=_declare_queue_type
    )
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
        amqp_util.reset(queue, queue_type=QUEUE_TYPE)
        port = free_port()
        try:
            runs[name] = result = http_json_xml.measure(factory(port), port)
            queued[name] = amqp_util.count(queue)
            if queued[name] < result["requests"] and not result.get("invalid"):
                result["invalid"] = (
                    f"only {queued[name]} messages reached {queue} for {result['requests']:.0f} "
                    "requests answered"
                )
                log(f"{name}: WARNING {result['invalid']}; see {PEERS / 'logs'}")
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
        "queue_type": QUEUE_TYPE,
        "notes": f"{QUEUE_TYPE} queues; Node-RED publishes without confirms; "
        "messages that reached the queue "
        + json.dumps(queued)
        + " (warm-up included)"
        + "".join(
            f"; {n}: {r['invalid']} (figure not valid)" for n, r in runs.items() if r.get("invalid")
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
