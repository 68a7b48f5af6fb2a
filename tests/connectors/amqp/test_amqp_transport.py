"""The coalescing writer on a real loopback socket: what is written in one loop turn reaches
the transport as one write, in order; drain, write_eof and close write what is kept first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from splice.connectors.amqp._transport import CoalescingWriter


class CountingWriter:
    """A real StreamWriter that counts the writes handed to it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.writes = 0

    def writelines(self, data: list[bytes]) -> None:
        self.writes += 1
        self.writer.writelines(data)

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.writer.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.writer, name)


@pytest.fixture
async def connection() -> AsyncIterator[tuple[asyncio.StreamReader, CountingWriter]]:
    accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    incoming, answering = await accepted.get()
    try:
        yield incoming, CountingWriter(writer)
    finally:
        for each in (writer, answering):
            each.close()
            with contextlib.suppress(OSError):
                await each.wait_closed()
        server.close()
        await server.wait_closed()


async def test_writes_of_one_loop_turn_go_out_together(
    connection: tuple[asyncio.StreamReader, CountingWriter],
) -> None:
    incoming, counting = connection
    writer = CoalescingWriter(counting)  # type: ignore[arg-type]
    for part in (b"one,", b"two,", b"three,"):
        writer.write(part)
    assert counting.writes == 0
    await asyncio.sleep(0)
    assert counting.writes == 1
    writer.write(b"four")
    await writer.drain()  # a drain writes what is kept at once
    assert counting.writes == 2
    assert await incoming.readexactly(18) == b"one,two,three,four"


async def test_close_writes_what_is_kept(
    connection: tuple[asyncio.StreamReader, CountingWriter],
) -> None:
    incoming, counting = connection
    writer = CoalescingWriter(counting)  # type: ignore[arg-type]
    writer.write(b"last words")
    writer.close()
    assert await incoming.read() == b"last words"
