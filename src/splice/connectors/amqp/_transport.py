"""How splice opens an aiormq connection: one socket write per event-loop turn, deep queues.

aiormq writes every frame set (a publish, an ack) to the socket as it comes, one ``send``
system call each; on loopback that call also runs the broker side of the TCP stack and is
the largest single cost of a confirmed publish. The writer given to aiormq here keeps what
is written during one event-loop turn and hands it to the transport at the start of the
next (``call_soon``), so the publishes and acks of many messages in flight leave in one
write. Nothing is reordered; ``drain``, ``write_eof`` and ``close`` write what is kept first,
so aiormq's "written" waits (``wait=True``) and its closing handshake are unchanged.

aiormq opens connections through a ``TransportFactory`` (its documented extension point);
:func:`coalescing_transports` wraps the one aiormq would have chosen for the URL.

aiormq's frame queues hold 10 frames by default. A publish holds the channel lock while it
waits for room in the connection's write queue, so once that queue is full the publishes of
many messages in flight go out one per loop turn, each in its own write; and a delivery is
three frames, so a channel's inbound queue of 10 passes a prefetched backlog on three
messages per loop turn. The bounds here (:data:`FRAMES`) are well above what the flow keeps
in flight: the runtime's ``max_in_flight`` and the source's ``prefetch`` bound them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiormq
    from aiormq import TransportFactory
    from yarl import URL

__all__ = ["FRAMES", "CoalescingWriter", "coalescing_transports", "new_connection"]

FRAMES = 4096
"""Frames a connection's write queue and a channel's inbound queue hold."""


class CoalescingWriter:
    """A :class:`asyncio.StreamWriter` whose writes of one loop turn go out together."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._kept: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._kept:
            self._loop.call_soon(self.flush)
        self._kept.append(data)

    def flush(self) -> None:
        """Hand what was written so far to the transport."""
        if not self._kept:
            return
        kept, self._kept = self._kept, []
        if not self._writer.is_closing():
            self._writer.writelines(kept)

    async def drain(self) -> None:
        self.flush()
        await self._writer.drain()

    def write_eof(self) -> None:
        self.flush()
        self._writer.write_eof()

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def coalescing_transports(url: URL) -> TransportFactory:
    """aiormq's transport factory for ``url``, its writers wrapped in CoalescingWriter."""
    from aiormq import TransportFactory
    from aiormq.connection import TCPTransportFactory, TLSTransportFactory

    inner: TransportFactory = (
        TLSTransportFactory() if url.scheme == "amqps" else TCPTransportFactory()
    )

    class Coalescing(TransportFactory):
        async def create(
            self, url: URL, **kwargs: Any
        ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            reader, writer = await inner.create(url, **kwargs)
            return reader, CoalescingWriter(writer)  # type: ignore[return-value]

    return Coalescing()


def new_connection(url: URL) -> aiormq.Connection:
    """An unopened aiormq connection with coalesced writes and a deep write queue."""
    import aiormq

    class Connection(aiormq.Connection):
        FRAME_BUFFER_SIZE = FRAMES

    return Connection(url, transport_factory=coalescing_transports(url))
