"""Scenario 6: idle footprint and scale-up.

Start-up time (process start until ``GET /healthz`` answers 200; for Node-RED until its flow
answers) and idle RSS two seconds later, of ``splice run`` on a copy of the quickstart (so
its outbox and state stay in bench/.peers), Node-RED with the scenario 1 flow and the
hand-written ceiling.

Scale-up: scenario 1 (bench/projects/http-json-xml) under ``splice run --workers 1`` and
``--workers 2``, measured twice because the machine may have only two cores:

- ``pinned``: 1 worker on core 0 against 2 workers on cores 0-1, wrk on core 1 in both (the
  scenario 1 layout). With two cores, the second worker shares its core with wrk.
- ``shared``: 1 and 2 workers, and wrk, all on cores 0-1: everyone competes alike.

The ratio reported against the 1.7x target is the pinned one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import http_json_xml
import lib
from lib import BENCH, PEERS, ROOT, SPLICE, Server, free_port, log

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


BOTH_CORES = "0,1"


@contextlib.contextmanager
def _wrk_on(cores: str) -> Iterator[None]:
    """Pin the load generator to ``cores`` for the block (lib.wrk reads LOAD_CORE)."""
    before, lib.LOAD_CORE = lib.LOAD_CORE, cores
    try:
        yield
    finally:
        lib.LOAD_CORE = before


def _workers_server(workers: int, cores: str, port: int) -> Server:
    """Scenario 1's splice, ``--workers N``, its processes allowed on ``cores``."""
    project = str(BENCH / "projects" / "http-json-xml")
    command = [SPLICE, "run", project, "--port", str(port), "--log-level", "warning"]
    # lib.Server pins to core 0; taskset again widens the set for splice and its workers
    return Server(
        f"splice x{workers} on {cores}",
        ["taskset", "-c", cores, *command, "--workers", str(workers)],
        log_path=PEERS / "logs" / f"splice-workers-{workers}.log",
    )


def _scale_up(layout: str, server_cores: dict[int, str], load_cores: str) -> dict[str, Any]:
    rps: dict[str, Any] = {}
    with _wrk_on(load_cores):
        for workers, cores in server_cores.items():
            port = free_port()
            try:
                result = http_json_xml.measure(_workers_server(workers, cores, port), port)
            except Exception as error:
                log(f"{layout}, {workers} workers failed: {error}")
                rps[str(workers)] = None
                continue
            rps[str(workers)] = None if result.get("invalid") else result["rps"]
            rps[f"peak_rss_mb_{workers}"] = result["peak_rss_mb"]
    one, two = rps.get("1"), rps.get("2")
    rps["ratio"] = two / one if one and two else None
    log(f"scale-up ({layout}): {one} -> {two} req/s, ratio {rps['ratio']}")
    return rps


def scale_up() -> dict[str, Any]:
    """Scenario 1 with 1 and 2 workers; see the module docstring for the two layouts."""
    if not has_workers():
        return {"1": None, "2": None, "ratio": None, "status": "n/a — no worker mode"}
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return {"1": None, "2": None, "ratio": None, "status": "n/a — needs 2 cores and taskset"}
    pinned = _scale_up("pinned", {1: lib.SERVER_CORE, 2: BOTH_CORES}, lib.LOAD_CORE)
    shared = _scale_up("shared", {1: BOTH_CORES, 2: BOTH_CORES}, BOTH_CORES)
    return {**pinned, "status": "measured", "shared_cores": shared}


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
    workers = scale_up()
    return {
        "id": ID,
        "metric": "idle RSS MB",
        "lower_is_better": True,
        **{name: r["idle_rss_mb"] for name, r in runs.items()},
        "startup_s": {name: r["startup_s"] for name, r in runs.items()},
        "peak_rss_mb": {name: r["idle_rss_mb"] for name, r in runs.items()},
        "workers": workers,
        "targets": {"2 workers / 1 worker": 1.7},
        "notes": (
            "start-up s splice/node-red/ceiling = "
            + "/".join(
                f"{runs[n]['startup_s']:.2f}" if n in runs else "-"
                for n in ("splice", "node-red", "ceiling")
            )
            + f"; scale-up 1 -> 2 workers: {_describe(workers)}"
        ),
    }


def _describe(workers: dict[str, Any]) -> str:
    if workers["status"] != "measured":
        return str(workers["status"])
    parts = []
    for layout, figures in (("pinned", workers), ("shared cores", workers["shared_cores"])):
        one, two, ratio = figures["1"], figures["2"], figures["ratio"]
        if ratio is None:
            parts.append(f"{layout}: not measured")
        else:
            parts.append(f"{layout} {one:.0f} -> {two:.0f} req/s = {ratio:.2f}x")
    return "; ".join(parts) + " (target 1.7x)"


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
