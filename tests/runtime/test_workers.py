"""``splice run --workers 2`` as real processes: both workers serve HTTP, a killed worker is
replaced, SIGTERM drains every worker, a folder is polled by worker 0 only, a worker that
cannot start stops the run, and a reload (SIGHUP, --watch) reaches every worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

SPLICE = Path(sys.executable).parent / "splice"
TIMEOUT = 60.0
ECHO = """\
integration: echo
source: {http: {path: /echo, method: POST, reply: sync}}
steps:
  - log: handled
"""
FILES = """\
integration: files
source: {file: {path: inbox}}
sinks:
  out: {file: {path: out}}
"""
ACCEPT = """\
integration: accept
source: {http: {path: /accept, method: POST, reply: accepted}}
sinks:
  out: {file: {path: out}}
"""


class Run:
    """One ``splice run --workers 2 --port 0`` process and its log."""

    def __init__(self, project: Path, *args: str) -> None:
        self.log = project.parent / "run.log"
        with self.log.open("wb") as out:
            command = [str(SPLICE), "run", str(project), "--port", "0", "--workers", "2", *args]
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def eventually(self, check: Callable[[], object], what: str) -> object:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            if self.process.poll() is not None:
                pytest.fail(f"splice run exited early, waiting for {what}:\n{self.output()}")
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}:\n{self.output()}")

    def wait_for(self, pattern: str) -> re.Match[str]:
        match = self.eventually(lambda: re.search(pattern, self.output()), repr(pattern))
        assert isinstance(match, re.Match)
        return match

    @property
    def port(self) -> int:
        return int(self.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))

    def worker_pid(self, index: int, *, not_: int | None = None) -> int:
        def started() -> int | None:
            pids = re.findall(rf"worker {index} started \(pid (\d+)\)", self.output())
            return int(pids[-1]) if pids and int(pids[-1]) != not_ else None

        pid = self.eventually(started, f"worker {index} to start")
        assert isinstance(pid, int)
        return pid

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=TIMEOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)


def _written(folder: Path) -> list[Path]:
    """The files a file sink finished (not its hidden temporary files, renamed any moment)."""
    return [path for path in folder.iterdir() if not path.name.startswith(".")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "flows").mkdir(parents=True)
    (folder / "splice.yaml").write_text("project: workers\n")
    (folder / "flows" / "echo.yaml").write_text(ECHO)
    return folder


@pytest.fixture
def start(project: Path) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def _start(*args: str) -> Run:
        runs.append(Run(project, *args))
        return runs[-1]

    yield _start
    for run in runs:
        run.close()


def get(port: int, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request on a new connection (so that any worker may accept it)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"Connection": "close"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def healthz_pids(run: Run, port: int, wanted: set[int]) -> set[int]:
    """Ask /healthz until every pid of ``wanted`` answered; every answer must be 200.

    Until a worker listens on the reserved port (the first answer), a connection is refused.
    """
    seen: set[int] = set()

    def all_seen() -> bool:
        try:
            status, body = get(port, "/healthz")
        except urllib.error.URLError as error:
            if seen or not isinstance(error.reason, ConnectionRefusedError):
                raise
            return False
        assert status == 200, body
        seen.add(json.loads(body)["pid"])
        return wanted <= seen

    run.eventually(all_seen, f"answers from the workers {wanted}")
    return seen


def engine_status(project: Path, port: int) -> dict[str, Any]:
    command = [str(SPLICE), "status", str(project), "--url", f"http://127.0.0.1:{port}", "--json"]
    done = subprocess.run(command, capture_output=True, check=True)
    report: dict[str, Any] = json.loads(done.stdout)["engine"]
    return report


def test_both_workers_serve_and_a_killed_worker_is_replaced(
    project: Path, start: Callable[..., Run]
) -> None:
    run = start()
    port = run.port
    first, second = run.worker_pid(0), run.worker_pid(1)
    healthz_pids(run, port, {first, second})

    def handled_by_both() -> bool:
        status, body = get(port, "/echo", b'{"n": 1}')
        assert (status, body) == (200, b'{"n": 1}')
        log = run.output()
        return "[worker 0] splice.flow" in log and "[worker 1] splice.flow" in log

    run.eventually(handled_by_both, "flow requests handled by both workers")
    sent = run.output().count("splice.flow: [echo")

    def status_counts_both() -> bool:
        report = engine_status(project, port)
        workers = [worker["index"] for worker in report["workers"]]
        return workers == [0, 1] and report["flows"]["echo"]["acked"] == sent

    run.eventually(status_counts_both, f"splice status to count the {sent} requests of both")

    os.kill(second, signal.SIGKILL)
    replacement = run.worker_pid(1, not_=second)
    assert replacement != second
    assert re.search(r"worker 1 exited with code -9 .* restarting", run.output())
    healthz_pids(run, port, {first, replacement})

    assert run.terminate() == 0
    log = run.output()
    assert "[worker 0] splice.runtime: stopping: draining" in log
    assert "[worker 1] splice.runtime: stopping: draining" in log


def test_a_folder_is_polled_by_worker_0_only(project: Path, start: Callable[..., Run]) -> None:
    (project / "flows" / "files.yaml").write_text(FILES)
    inbox, out = project / "inbox", project / "out"
    inbox.mkdir()
    for n in range(20):
        (inbox / f"order-{n:02}.json").write_text(json.dumps({"n": n}))
    run = start()
    run.wait_for(r"\[worker 1\] splice\.runtime: flow 'echo'")
    run.eventually(lambda: len(list((inbox / "done").glob("*"))) == 20, "20 files done")
    delivered = sorted(json.loads(path.read_text())["n"] for path in _written(out))
    assert delivered == list(range(20))
    assert run.terminate() == 0
    log = run.output()
    assert "[worker 0] splice.runtime: flow 'files'" in log
    assert "[worker 1] splice.runtime: flow 'files'" not in log


def test_a_worker_that_cannot_start_stops_the_run(project: Path, start: Callable[..., Run]) -> None:
    (project / "flows" / "bad.yaml").write_text(
        "integration: bad\nsource: {http: /bad}\nsinks:\n  out: {file: {path: splice.yaml/x}}\n"
    )
    run = start()
    assert run.process.wait(timeout=TIMEOUT) == 1
    log = run.output()
    assert "could not start: cannot create folder" in log
    assert "cannot start (exit code 3): stopping all workers" in log


def test_both_workers_journal_into_one_sqlite_store(
    project: Path, start: Callable[..., Run]
) -> None:
    """202 replies are journaled first: both workers append to and complete entries in one
    SQLite file; every message arrives once and no entry is left behind."""
    (project / "flows" / "accept.yaml").write_text(ACCEPT)
    run = start()
    port = run.port
    run.wait_for(r"\[worker 1\] splice\.runtime: flow 'accept'")
    run.wait_for(r"\[worker 0\] splice\.runtime: flow 'accept'")
    with ThreadPoolExecutor(8) as pool:
        bodies = [json.dumps({"n": n}).encode() for n in range(80)]
        statuses = list(pool.map(lambda body: get(port, "/accept", body)[0], bodies))
    assert statuses == [202] * 80
    out = project / "out"
    run.eventually(lambda: out.is_dir() and len(_written(out)) == 80, "80 files out")
    assert sorted(json.loads(path.read_text())["n"] for path in _written(out)) == list(range(80))
    assert run.terminate() == 0
    status = subprocess.run(
        [str(SPLICE), "status", str(project), "--json"], capture_output=True, check=True
    )
    assert json.loads(status.stdout)["store"]["accept"]["journal"] == 0


@pytest.mark.parametrize("trigger", ["SIGHUP", "--watch"])
def test_a_reload_reaches_every_worker(
    project: Path, start: Callable[..., Run], trigger: str
) -> None:
    run = start("--watch") if trigger == "--watch" else start()
    port = run.port
    run.wait_for(r"\[worker 1\] splice\.runtime: flow 'echo'")
    run.wait_for(r"\[worker 0\] splice\.runtime: flow 'echo'")
    (project / "flows" / "echo.yaml").write_text(ECHO.replace("/echo", "/echo2"))
    if trigger == "SIGHUP":
        run.process.send_signal(signal.SIGHUP)
    run.wait_for(r"\[worker 0\] splice\.runtime: flow 'echo' reloaded")
    run.wait_for(r"\[worker 1\] splice\.runtime: flow 'echo' reloaded")
    assert get(port, "/echo2", b"{}")[0] == 200
    assert run.terminate() == 0


def test_bad_worker_counts_are_refused(project: Path) -> None:
    done = subprocess.run(
        [str(SPLICE), "run", str(project), "--workers", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--workers must be a number from 1 to 256 or 'auto', not '0'" in done.stderr


def test_workers_stop_when_the_supervisor_is_killed(start: Callable[..., Run]) -> None:
    run = start()
    pids = [run.worker_pid(0), run.worker_pid(1)]
    run.wait_for(r"\[worker 1\] splice\.runtime: flow 'echo'")
    run.wait_for(r"\[worker 0\] splice\.runtime: flow 'echo'")
    run.process.kill()
    run.process.wait(timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], run.output()
    assert run.output().count("the supervisor is gone: stopping") == 2
