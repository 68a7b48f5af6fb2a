"""Real services on ports of the test's own: a TCP relay to a running service, opened when
the test says (so an engine can start while "the broker is down" and see it come up), and
a second server process the test starts with its own settings (a password, say)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from tests.services import reachable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def open_relay(port: int, to_port: int) -> asyncio.Server:
    """Listen on ``port`` and relay each connection to 127.0.0.1:``to_port``."""

    async def forward(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        service_reader, to_service = await asyncio.open_connection("127.0.0.1", to_port)
        await asyncio.gather(_pipe(client_reader, to_service), _pipe(service_reader, client))

    return await asyncio.start_server(forward, "127.0.0.1", port)


@contextlib.asynccontextmanager
async def own_server(*command: str, port: int) -> AsyncIterator[int]:
    """Run ``command`` (a server of the test's own, listening on ``port``) until the block
    ends; yields the port once the server accepts connections."""
    server = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            if reachable(port, timeout=0.1):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"{command[0]} did not start listening on {port}")
        yield port
    finally:
        server.terminate()
        await server.wait()
