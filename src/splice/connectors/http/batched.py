"""Response writes batched per turn of the event loop: one send per connection, not two.

uvicorn writes a response in two calls, the header block at ``http.response.start`` and the
body at ``http.response.body``, and the event loop sends each at once. On a busy server every
one of those sends wakes the client on its side (on a VM, an interrupt to another virtual CPU
that may be asleep): the wake-ups, not the bytes, cost ~10 µs a write (bench/HISTORY.md).

:class:`BatchedTransport` stands in front of a connection's transport and keeps what is
written until the end of the current turn of the loop, when :class:`WriteBatch` sends each
connection's bytes in one call. The replies finished in one turn then leave back to back:
one send per connection and the client woken once for all of them. Nothing waits longer
than the turn it was written in; a connection holding more than ``MAX_HELD_BYTES`` sends
at once, and ``close()`` sends what is held before closing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HELD_BYTES", "BatchedTransport", "WriteBatch", "batched_protocol"]

MAX_HELD_BYTES = 64 * 1024
"""A connection holding this much sends at once instead of at the end of the turn."""


class WriteBatch:
    """The connections written to in this turn of the loop; each sends once at its end."""

    __slots__ = ("_loop", "_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[BatchedTransport] = []

    def add(self, transport: BatchedTransport) -> None:
        # call_soon from a callback of this turn runs after every callback of this turn
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(transport)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for transport in pending:
            transport.flush()


class BatchedTransport(asyncio.Transport):
    """A connection's transport whose writes are sent by its :class:`WriteBatch`."""

    __slots__ = ("_batch", "_held", "_held_bytes", "_transport")

    def __init__(self, transport: asyncio.Transport, batch: WriteBatch) -> None:
        super().__init__()
        self._transport = transport
        self._batch = batch
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._batch.add(self)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= MAX_HELD_BYTES:
            self.flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what is held now (nothing to a connection already closing)."""
        held = self._held
        if not held:
            return
        self._held = []
        self._held_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._held_bytes = 0
        self._transport.abort()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


def batched_protocol(loop: asyncio.AbstractEventLoop) -> type[HttpToolsProtocol]:
    """uvicorn's HTTP/1.1 protocol with every connection's writes batched on ``loop``."""
    batch = WriteBatch(loop)

    class BatchedHttpProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(BatchedTransport(transport, batch))

    return BatchedHttpProtocol
