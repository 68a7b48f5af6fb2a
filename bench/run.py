"""The benchmark suite: ``make bench`` (or ``.venv/bin/python bench/run.py``).

Sets up the pinned peers in bench/.peers/, runs every scenario for splice and its peers in
the same run, prints the table, and writes bench/results/latest.json and latest.png.

    python bench/run.py                       # everything
    python bench/run.py --only http-json-xml mapping
    python bench/run.py --skip-setup          # peers already installed
Environment (see docs/guides/benchmarks.md): BENCH_DURATION (wrk, default 10s), BENCH_WARMUP
(3s), BENCH_CONNECTIONS (32), BENCH_REPEAT (1), BENCH_MAPPING_SECONDS (5), BENCH_CSV_ROWS
(1000000), BENCH_CSV_MULTIPLIER (10), BENCH_MEMORY_CAP_GB (8), BENCH_AMQP_MESSAGES (100000).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "scenarios")]

import setup_peers  # noqa: E402
from lib import log  # noqa: E402

RESULTS = BENCH / "results"
# id -> module in bench/scenarios; run in this order
SCENARIOS = {
    "http-json-xml": "http_json_xml",
    "http-xml-amqp": "http_xml_amqp",
    "amqp-map-amqp": "amqp_map_amqp",
    "csv-batch": "csv_batch",
    "mapping": "mapping",
    "footprint": "footprint",
}
PEER_KEYS = ("node-red", "jsonata-js")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        node = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node,
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg_at_start": os.getloadavg(),
    }


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def _ratio(a: Any, b: Any) -> str:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return f"{a / b:.2f}x"
    return "-"


def table(scenarios: list[dict[str, Any]]) -> str:
    head = (
        "scenario",
        "metric",
        "splice",
        "peer",
        "peer value",
        "ceiling",
        "splice/peer",
        "splice/ceiling",
        "p50 ms s/p/c",
        "p99 ms s/p/c",
        "peak RSS MB s/p/c",
    )
    rows = [head]
    for sc in scenarios:
        if sc.get("skipped"):
            rows.append((sc["id"], sc.get("metric", ""), "skipped: " + sc["skipped"], *[""] * 8))
            continue
        peer = next((k for k in PEER_KEYS if k in sc), None)
        lat = lambda key: "/".join(
            _num(sc.get(key, {}).get(k), 1)  # noqa: E731
            for k in ("splice", peer, "ceiling")
        )
        rss = "/".join(_num(sc.get("peak_rss_mb", {}).get(k)) for k in ("splice", peer, "ceiling"))
        rows.append(
            (
                sc["id"],
                sc["metric"],
                _num(sc.get("splice")),
                peer or "-",
                _num(sc.get(peer)) if peer else "-",
                _num(sc.get("ceiling")),
                _ratio(sc.get("splice"), sc.get(peer)) if peer else "-",
                _ratio(sc.get("splice"), sc.get("ceiling")),
                lat("p50_ms") if "p50_ms" in sc else "-",
                lat("p99_ms") if "p99_ms" in sc else "-",
                rss if "peak_rss_mb" in sc else "-",
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    notes = [f"  {sc['id']}: {sc['notes']}" for sc in scenarios if sc.get("notes")]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS), help="scenario ids to run")
    parser.add_argument("--skip-setup", action="store_true", help="do not (re)install the peers")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    if not args.skip_setup:
        setup_peers.setup_all()
    chosen = args.only or list(SCENARIOS)
    results: list[dict[str, Any]] = []
    began = time.monotonic()
    for scenario_id in chosen:
        log(f"=== {scenario_id}")
        try:
            module = importlib.import_module(SCENARIOS[scenario_id])
            results.append(module.run())
        except Exception as error:
            log(f"{scenario_id} failed: {error!r}")
            results.append({"id": scenario_id, "skipped": f"failed: {error}"})
    doc = {
        "machine": machine(),
        "duration_s": round(time.monotonic() - began, 1),
        "scenarios": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nwritten: {args.out}")
    chart = subprocess.run(
        [sys.executable, str(BENCH / "chart.py"), str(args.out), str(args.out.with_suffix(".png"))],
        env=setup_peers.py_env(),
    )
    if chart.returncode != 0:
        log("warning: no PNG chart (matplotlib unavailable or failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
