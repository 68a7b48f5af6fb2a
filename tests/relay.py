"""A TCP relay to a real service on a port of the test's choosing, opened when the test says:
so a test can start an engine while "the broker is down" and bring it up afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import socket


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
