"""Scenario 6: idle footprint and scale-up.

Start-up time (process start until ``GET /healthz`` answers 200; for Node-RED until its flow
answers) and idle RSS two seconds later, of ``splice run`` on a copy of the quickstart (so
its outbox and state stay in bench/.peers), Node-RED with the scenario 1 flow and the
hand-written ceiling. Scale-up (scenario 1 with 1 and 2 worker processes) needs a worker
mode in ``splice run``; until there is one the scenario says so instead of faking it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

import http_json_xml
from lib import PEERS, ROOT, SPLICE, Server, free_port, log

ID = "footprint"
IDLE_SECONDS = 2.0


def _quickstart_copy() -> str:
    target = PEERS / "quickstart"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        ROOT / "examples" / "quickstart",
        target,
        ignore=shutil.ignore_patterns("outbox", "audit", ".splice", "tests"),
    )
    return str(target)


def _measure(server: Server, url: str, data: bytes | None = None) -> dict[str, float]:
    with server:
        startup = server.wait_http(url, data=data, timeout=90)
        time.sleep(IDLE_SECONDS)
        mem = server.rss()
    result = {"startup_s": startup, "idle_rss_mb": mem["VmRSS"] / 1024}
    log(f"{server.name}: up in {startup:.2f}s, idle RSS {result['idle_rss_mb']:.0f} MB")
    return result


def has_workers() -> bool:
    out = subprocess.run([SPLICE, "run", "--help"], capture_output=True, text=True).stdout
    return "--workers" in out


def run() -> dict[str, Any]:
    runs: dict[str, dict[str, float]] = {}
    port = free_port()
    runs["splice"] = _measure(
        Server(
            "splice",
            [SPLICE, "run", _quickstart_copy(), "--port", str(port), "--log-level", "warning"],
            log_path=PEERS / "logs" / "splice-footprint.log",
        ),
        f"http://127.0.0.1:{port}/healthz",
    )
    for name, factory, path, data in (
        ("node-red", http_json_xml.nodered_server, "/order", http_json_xml.ORDER),
        ("ceiling", http_json_xml.ceiling_server, "/healthz", None),
    ):
        port = free_port()
        try:
            runs[name] = _measure(factory(port), f"http://127.0.0.1:{port}{path}", data)
        except Exception as error:
            log(f"{name} failed: {error}")
    workers = "measured" if has_workers() else "n/a — no worker mode"
    return {
        "id": ID,
        "metric": "idle RSS MB",
        "lower_is_better": True,
        **{name: r["idle_rss_mb"] for name, r in runs.items()},
        "startup_s": {name: r["startup_s"] for name, r in runs.items()},
        "peak_rss_mb": {name: r["idle_rss_mb"] for name, r in runs.items()},
        "workers": {"1": None, "2": None, "ratio": None, "status": workers},
        "targets": {"2 workers / 1 worker": 1.7},
        "notes": (
            "start-up s splice/node-red/ceiling = "
            + "/".join(
                f"{runs[n]['startup_s']:.2f}" if n in runs else "-"
                for n in ("splice", "node-red", "ceiling")
            )
            + f"; scale-up 1 vs 2 workers: {workers}"
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
