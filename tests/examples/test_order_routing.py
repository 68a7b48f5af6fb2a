"""examples/order-routing end to end against a real `splice run` process: orders dropped into
the inbox come out reassembled, and an order's aggregation state survives a SIGKILL."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPLICE = Path(sys.executable).parent / "splice"
TIMEOUT = 30.0


class Runner:
    """Starts and stops `splice run` on one copy of the example; output goes to a log file."""

    def __init__(self, project: Path, log: Path) -> None:
        self.project = project
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(SPLICE), "run", str(self.project)], stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no drain, no clean shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=TIMEOUT)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        self.process = None

    def eventually(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if check():
                return
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"splice run exited early while waiting for {what}:\n{self.output()}")
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    project = tmp_path / "order-routing"
    shutil.copytree(
        ROOT / "examples" / "order-routing", project, ignore=shutil.ignore_patterns(".splice")
    )
    run = Runner(project, tmp_path / "splice.log")
    yield run
    run.stop()


def drop(folder: Path, name: str, data: dict[str, Any]) -> None:
    """Write a file atomically: the inbox never sees it half written."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.tmp"
    temporary.write_text(json.dumps(data))
    temporary.rename(folder / name)


def names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def order(order_id: str, *items: tuple[str, int]) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "customer": "Acme",
        "items": [{"sku": sku, "qty": qty} for sku, qty in items],
    }


def test_orders_come_out_reassembled_and_a_duplicate_once(runner: Runner) -> None:
    inbox, out = runner.project / "inbox", runner.project / "out"
    runner.start()
    drop(inbox, "1-B-2.json", order("B-2", ("PIPE-20", 4), ("BOLT-M8", 100), ("VALVE-20", 1)))
    drop(inbox, "2-C-3.json", order("C-3", ("NUT-M8", 50)))
    runner.eventually(lambda: names(out) == ["B-2.json", "C-3.json"], "both orders in out/")
    drop(inbox, "3-B-2-again.json", order("B-2", ("PIPE-20", 4), ("BOLT-M8", 100)))
    runner.eventually(
        lambda: "3-B-2-again.json" in names(inbox / "done"), "the duplicate to be taken"
    )

    assert json.loads((out / "B-2.json").read_text()) == {
        "orderId": "B-2",
        "customer": "Acme",
        "lines": [
            {"line": 1, "sku": "PIPE-20", "qty": 4, "warehouse": "south"},
            {"line": 2, "sku": "BOLT-M8", "qty": 100, "warehouse": "north"},
            {"line": 3, "sku": "VALVE-20", "qty": 1, "warehouse": "south"},
        ],
    }
    assert json.loads((out / "C-3.json").read_text())["lines"] == [
        {"line": 1, "sku": "NUT-M8", "qty": 50, "warehouse": "north"}
    ]
    assert names(out) == ["B-2.json", "C-3.json"]  # the duplicate B-2 was dropped
    assert names(runner.project / "manual") == []
    assert names(inbox / "failed") == []


def test_an_invalid_order_is_dead_lettered_and_nothing_comes_out(runner: Runner) -> None:
    inbox = runner.project / "inbox"
    runner.start()
    drop(inbox, "1-bad.json", {"orderId": "X-1", "customer": "Acme", "items": []})
    drop(inbox, "2-good.json", order("X-2", ("BOLT-M8", 1)))
    runner.eventually(lambda: names(runner.project / "out") == ["X-2.json"], "the good order")
    runner.eventually(lambda: names(inbox) == [], "both files taken from the inbox")

    listed = subprocess.run(
        [str(SPLICE), "dlq", "list", "--project", str(runner.project), "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    [letter] = json.loads(listed.stdout)
    assert (letter["flow"], letter["step"]) == ("order-intake", "steps[1].validate"), letter
    assert letter["error_code"] == "contract", letter


def test_the_lines_of_an_order_survive_a_sigkill_of_the_engine(runner: Runner) -> None:
    project = runner.project
    inbox, manual, out = project / "inbox", project / "manual", project / "out"
    runner.start()
    # Two lines go straight to the aggregator; GASKET-X has no warehouse and waits in manual/.
    drop(inbox, "A-1.json", order("A-1", ("BOLT-M8", 100), ("PIPE-20", 4), ("GASKET-X", 2)))
    runner.eventually(lambda: names(manual) == ["A-1-3.json"], "the manual line")
    # The order file is moved to done/ only once all of its lines were delivered: the two
    # allocated lines are then stored in the aggregator's open group.
    runner.eventually(lambda: names(inbox / "done") == ["A-1.json"], "the order to be acked")
    assert names(out) == []

    runner.kill()
    runner.start()

    line = json.loads((manual / "A-1-3.json").read_text())
    assert "warehouse" not in line
    drop(project / "resolved", "A-1-3.json", line | {"warehouse": "south"})
    runner.eventually(lambda: names(out) == ["A-1.json"], "the reassembled order after restart")

    assert json.loads((out / "A-1.json").read_text()) == {
        "orderId": "A-1",
        "customer": "Acme",
        "lines": [
            {"line": 1, "sku": "BOLT-M8", "qty": 100, "warehouse": "north"},
            {"line": 2, "sku": "PIPE-20", "qty": 4, "warehouse": "south"},
            {"line": 3, "sku": "GASKET-X", "qty": 2, "warehouse": "south"},
        ],
    }
    assert names(out / "incomplete") == []
