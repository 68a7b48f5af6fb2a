"""The crash harness, small: nothing accepted is lost across kill -9 of ``splice run``.

``make chaos`` runs the full size (``python -m tests.chaos.harness``); this test runs
``CHAOS_N`` messages (default 2000) with ``CHAOS_KILLS`` kills (default 3) in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_loses_nothing_and_keys_absorb_every_duplicate(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.setdefault("CHAOS_N", "2000")
    env.setdefault("CHAOS_KILLS", "3")
    env["CHAOS_DIR"] = str(tmp_path)
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
    counts = dict(item.split("=") for item in last.removeprefix("chaos: ").split())
    assert counts["in"] == env["CHAOS_N"], done.stdout + done.stderr
    assert counts["lost"] == "0", done.stdout
    assert counts["duplicate_effects"] == "0", done.stdout
    assert counts["dead_letters"] == "0", done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
