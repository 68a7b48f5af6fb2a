"""Scenario 5: evaluations/s of a realistic reshaping JSONata expression.

splice's ``compile_mapping(expr).evaluate(data)`` (data decoded by splice's json codec, as a
flow sees it) against jsonata-js 2.x on Node.js with the expression precompiled. Both pinned
to core 0, one warm-up second, then ``BENCH_MAPPING_SECONDS`` (default 5) measured. The
results of both are compared (numbers as floats) so the work is known to be the same.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from typing import Any

import setup_peers
from lib import BENCH, FIXTURES, SERVER_CORE, VENV_PY, log, pinned

ID = "mapping"
EXPR = BENCH / "scenarios" / "mapping_expr.jsonata"
PEERS_DIR = BENCH / "scenarios" / "mapping_peers"
SECONDS = os.environ.get("BENCH_MAPPING_SECONDS", "5")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _run(cmd: list[str]) -> dict[str, Any]:
    out = subprocess.run(pinned(cmd, SERVER_CORE), capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def run() -> dict[str, Any]:
    order = str(FIXTURES / "order.json")
    splice = _run([VENV_PY, str(PEERS_DIR / "splice_bench.py"), str(EXPR), order, SECONDS])
    log(f"splice: {splice['evals_per_s']:.0f} evals/s")
    js: dict[str, Any] = {}
    try:
        js = _run(
            [
                "node",
                str(PEERS_DIR / "jsonata_bench.js"),
                str(setup_peers.NODE_DIR / "node_modules"),
                str(EXPR),
                order,
                SECONDS,
            ]
        )
        log(f"jsonata-js: {js['evals_per_s']:.0f} evals/s")
    except (subprocess.CalledProcessError, OSError, ValueError) as error:
        log(f"jsonata-js failed: {error}")
    same = _same(splice.get("result"), js.get("result")) if js else None
    notes = (
        "same result from both"
        if same
        else (
            "RESULTS DIFFER: "
            + json.dumps({"splice": splice.get("result"), "js": js.get("result")})
            if js
            else "jsonata-js not run"
        )
    )
    return {
        "id": ID,
        "metric": "evals/s",
        "splice": splice["evals_per_s"],
        "jsonata-js": js.get("evals_per_s"),
        "ceiling": None,
        "peak_rss_mb": {"splice": splice["peak_rss_mb"], "jsonata-js": js.get("peak_rss_mb")},
        "targets": {"splice/jsonata-js": 0.5},
        "notes": notes,
        "expression": EXPR.read_text(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
