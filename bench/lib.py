"""Shared helpers: processes pinned to cores, readiness, peak RSS from /proc, wrk runs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import setup_peers

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FIXTURES = BENCH / "fixtures"
PEERS = BENCH / ".peers"
VENV_PY = sys.executable
SPLICE = str(Path(sys.executable).with_name("splice"))

SERVER_CORE = "0"
LOAD_CORE = "1"
WRK_DURATION = os.environ.get("BENCH_DURATION", "10s")
WRK_WARMUP = os.environ.get("BENCH_WARMUP", "3s")
WRK_CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def pinned(cmd: list[str], core: str) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *cmd]
    return cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (peak RSS) in kB from /proc/<pid>/status, summed over the process tree."""
    total = {"VmRSS": 0, "VmHWM": 0}
    for p in [pid, *_children(pid)]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for key in total:
            m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
            if m:
                total[key] += int(m.group(1))
    return total


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids = (task / "children").read_text().split()
            for kid in kids:
                out += [int(kid), *_children(int(kid))]
    except OSError:
        pass
    return out


@dataclass
class Server:
    name: str
    cmd: list[str]
    cwd: Path = ROOT
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    log_path: Path = field(default_factory=lambda: PEERS / "logs" / "server.log")

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            pinned(self.cmd, SERVER_CORE),
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_http(self, url: str, timeout: float = 60.0, data: bytes | None = None) -> float:
        """Seconds from start until ``url`` answers 2xx (POST ``data`` when given)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            try:
                req = urllib.request.Request(
                    url, data=data, headers={"content-type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if 200 <= resp.status < 300:
                        return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(
            f"{self.name} did not answer {url} within {timeout}s; see {self.log_path}"
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> dict[str, int]:
        return proc_status(self.pid)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        self.proc = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(
    url: str, duration: str = WRK_DURATION, connections: str = WRK_CONNECTIONS
) -> dict[str, float]:
    """One pinned wrk run posting the order; req/s, p50/p99 (ms) and error counts."""
    found = setup_peers.wrk_cmd()
    if found is None:
        raise RuntimeError("wrk is not installed (bench/setup_peers.py)")
    binary, env = found
    cmd = pinned(
        [*binary, "-t1", f"-c{connections}", f"-d{duration}", "--latency", "-s", "post.lua", url],
        LOAD_CORE,
    )
    out = subprocess.run(
        cmd, cwd=FIXTURES, env=env, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non2xx"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = float(sum(int(g) for g in m.groups())) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = float(m.group(1)) if m else 0.0
    return result


def load_test(server: Server, url: str) -> dict[str, float]:
    """Warm-up run, then BENCH_REPEAT measured runs (the median by req/s is kept, as the
    shared figures are medians of 3); adds the server's peak RSS (MB)."""
    wrk(url, duration=WRK_WARMUP)
    runs = sorted((wrk(url) for _ in range(max(REPEAT, 1))), key=lambda r: r["rps"])
    result = runs[len(runs) // 2]
    result["runs"] = float(len(runs))
    mem = server.rss()
    result["peak_rss_mb"] = mem["VmHWM"] / 1024
    result["rss_mb"] = mem["VmRSS"] / 1024
    return result
