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

Each layout runs three rounds (``BENCH_REPEAT`` if more) of 1 worker then 2 workers back to
back; the figures are the medians, and the ratio is the median of the rounds' ratios, so a
change in the machine's load between two runs weighs less. The ratio reported against the
1.7x target is the pinned one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import http_json_xml
import lib
from lib import BENCH, PEERS, REPEAT, ROOT, SPLICE, Server, free_port, log

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
ROUNDS = max(REPEAT, 3)
"""Rounds of (1 worker, 2 workers); at least three, the machine's load varies."""


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


def _every_worker_answers(port: int, workers: int, timeout: float = 90.0) -> None:
    """Wait until each worker served ``/healthz``: wrk keeps its connections, and those
    opened while a worker was still starting would all stay with the others."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers and time.monotonic() < deadline:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"}
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2) as reply:
            seen.add(json.loads(reply.read()).get("worker", 0))
    if len(seen) < workers:
        raise RuntimeError(f"only workers {sorted(seen)} of {workers} answered")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the workers), in seconds."""
    ticks = 0
    for process in (pid, *lib._children(pid)):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _load(workers: int, cores: str, layout: str) -> dict[str, float] | None:
    """Scenario 1 against ``--workers N``: req/s, the CPU time the server used per request
    (its cores busy, its requests per CPU-second) and peak RSS. None when it failed."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/order"
    server = _workers_server(workers, cores, port)
    try:
        with server:
            server.wait_http(url, data=http_json_xml.ORDER, timeout=90)
            _every_worker_answers(port, workers)
            lib.wrk(url, duration=lib.WRK_WARMUP)
            before, began = _cpu_seconds(server.pid), time.monotonic()
            result = lib.wrk(url)
            cpu, elapsed = _cpu_seconds(server.pid) - before, time.monotonic() - began
            peak = server.rss()["VmHWM"] / 1024
    except Exception as error:
        log(f"{layout}, {workers} workers failed: {error}")
        return None
    if result["non2xx"] + result["socket_errors"] > 0.01 * max(result["requests"], 1):
        log(f"{server.name}: more than 1% of the requests failed, not counted")
        return None
    figures = {
        "rps": result["rps"],
        "cores_busy": cpu / elapsed,
        "requests_per_cpu_s": result["requests"] / cpu if cpu else 0.0,
        "peak_rss_mb": peak,
    }
    log(f"{server.name}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))
    return figures


def _scale_up(layout: str, server_cores: dict[int, str], load_cores: str) -> dict[str, Any]:
    """Rounds of 1 then 2 workers, back to back, so that both see the same machine load;
    the medians of req/s, of each round's ratio, and of the server's CPU use."""
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    ratios: list[float] = []
    with _wrk_on(load_cores):
        for _ in range(ROUNDS):
            pair = {
                workers: _load(workers, cores, layout) for workers, cores in server_cores.items()
            }
            for workers, figures in pair.items():
                if figures is not None:
                    runs[workers].append(figures)
            one, two = pair[1], pair[2]
            if one and two:
                ratios.append(two["rps"] / one["rps"])
    figures: dict[str, Any] = {
        "ratio": statistics.median(ratios) if ratios else None,
        "ratios": [round(r, 2) for r in ratios],
    }
    for workers, found in runs.items():
        for key in ("rps", "cores_busy", "requests_per_cpu_s", "peak_rss_mb"):
            values = [run[key] for run in found]
            name = str(workers) if key == "rps" else f"{key}_{workers}"
            figures[name] = statistics.median(values) if values else None
    one, two = figures["requests_per_cpu_s_1"], figures["requests_per_cpu_s_2"]
    figures["cpu_efficiency"] = two / one if one and two else None
    log(f"scale-up ({layout}): {figures}")
    return figures


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
        if figures["ratio"] is None:
            parts.append(f"{layout}: not measured")
            continue
        rounds = "/".join(f"{r:.2f}" for r in figures["ratios"])
        parts.append(
            f"{layout} {figures['1']:.0f} -> {figures['2']:.0f} req/s = "
            f"{figures['ratio']:.2f}x ({rounds}), server cores busy "
            f"{figures['cores_busy_1']:.2f} -> {figures['cores_busy_2']:.2f}, "
            f"requests per CPU-second x2/x1 {figures['cpu_efficiency']:.2f}"
        )
    return "; ".join(parts) + " (target 1.7x)"


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
