"""The crash harness, small: nothing accepted is lost across kill -9 of ``splice run``.

``make chaos`` runs the full size (``python -m tests.chaos.harness``); these tests run
``CHAOS_N`` messages (default 1000) with ``CHAOS_KILLS`` kills (default 3) in CI, once with
effects applied per key at the sink and once with a ``dedupe`` step on the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def chaos(folder: Path, dedupe: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CHAOS_N", "1000")
    env.setdefault("CHAOS_KILLS", "3")
    env["CHAOS_DIR"] = str(folder)
    env["CHAOS_DEDUPE"] = dedupe
    env.pop("CHAOS_KEYED", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.chaos.harness"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    last = done.stdout.splitlines()[-1] if done.stdout else ""
    assert last.startswith("chaos: in="), done.stdout + done.stderr
    counts = dict(item.split("=") for item in last.removeprefix("chaos: ").split())
    assert counts["in"] == env["CHAOS_N"], done.stdout
    counts["report"] = done.stdout + done.stderr[-2000:]
    return counts


def test_kill_9_loses_nothing_and_keys_absorb_every_duplicate(tmp_path: Path) -> None:
    counts = chaos(tmp_path, dedupe="0")

    assert counts["lost"] == "0"
    assert counts["duplicate_effects"] == "0"
    assert counts["dead_letters"] == "0"


def test_kill_9_with_a_dedupe_step_loses_nothing(tmp_path: Path) -> None:
    counts = chaos(tmp_path, dedupe="1")

    assert counts["lost"] == "0", counts["report"]
    assert counts["duplicate_effects"] == "0", counts["report"]
    assert counts["dead_letters"] == "0", counts["report"]
    # A message killed between its sink write and the confirmation of its key is delivered
    # again when it resumes: at most what was in flight at each kill, never a lost one.
    in_flight_at_kills = 64 * int(os.environ.get("CHAOS_KILLS", "3"))
    assert int(counts["duplicates_delivered"]) <= in_flight_at_kills, counts["report"]
