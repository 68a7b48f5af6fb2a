"""A NATS server restarted while a flow publishes to JetStream: nothing is lost, nothing
is stored twice.

The test runs its own ``nats-server`` (JetStream, file storage in a temporary folder, a free
port), so that stopping it disturbs no other test using the shared server.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats_harness import require

from splice.components.context import Context
from splice.connectors.nats import NatsSink, NatsSinkConfig
from splice.message import Message
from splice.runtime.policies import OnError
from splice.runtime.retry import RetryingSink

SERVER = shutil.which("nats-server", path="/usr/sbin:/usr/local/bin:/usr/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateServer:
    def __init__(self, server: str, store: Path) -> None:
        self.server = server
        self.port = free_port()
        self.store = store
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.server, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                await writer.wait_closed()
                return

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()  # the server this test started, by its pid
            await process.wait()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[PrivateServer]:
    require("nats")  # the shared server's presence says NATS is installed here
    if SERVER is None:
        pytest.skip("nats-server is not installed")
    private = PrivateServer(SERVER, tmp_path / "jetstream")
    await private.start()
    yield private
    await private.stop()


async def test_a_server_restart_mid_stream_loses_and_duplicates_nothing(
    server: PrivateServer, tmp_path: Path
) -> None:
    config = NatsSinkConfig.model_validate(
        {
            "url": f"nats://127.0.0.1:{server.port}",
            "subject": "orders.restart",
            "stream": {"name": "RESTART", "storage": "file"},
            "timeout": "1s",
        }
    )
    policy = OnError.model_validate(
        {"retry": {"attempts": 200, "initial": "50ms", "max": "300ms"}, "circuit_breaker": None}
    )
    sink = RetryingSink(NatsSink(config, Context(tmp_path, "restart")), policy)
    await sink.open()
    total = 60
    messages = [Message(f"order {n}".encode()) for n in range(total)]
    try:
        for number, message in enumerate(messages):
            if number == total // 3:
                await server.stop()
                restart = asyncio.create_task(restart_after(server, 1.0))
            await sink.send(message)
        await restart
    finally:
        await sink.close()
    import nats

    client = await nats.connect(f"nats://127.0.0.1:{server.port}")
    try:
        js = client.jetstream()
        assert (await js.stream_info("RESTART")).state.messages == total
        stored = [await js.get_msg("RESTART", seq) for seq in range(1, total + 1)]
        assert [m.data for m in stored] == [m.body for m in messages]
        assert max(message.attempts for message in messages) > 1  # the outage was felt
    finally:
        await client.close()


async def restart_after(server: PrivateServer, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await server.start()
