"""In-memory sources and sinks, for testing flows and components without any service.

``MemorySource`` yields the messages it is given and records how each was settled;
``RecordingSink`` records what it received and can be told to fail or to wait, which is
how the runtime's delivery guarantees (ack after sinks, backpressure, drain) are proven.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

from splice.components.interfaces import Delivery, Sink, Source
from splice.message import Message

__all__ = ["MemorySource", "RecordingSink", "Settlement"]


@dataclass
class Settlement:
    """How one delivery ended: acked with outputs, or nacked with an error."""

    message: Message
    acked: bool
    outputs: list[Message] = field(default_factory=list)
    error: BaseException | None = None


class MemorySource(Source):
    """Yields queued messages; ``pulled`` counts how many the runtime has taken."""

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        for message in messages:
            self._queue.put_nowait(message)
        self.pulled = 0
        self.settlements: list[Settlement] = []
        self.settled = asyncio.Event()
        self.closed = False

    def put(self, message: Message) -> None:
        self._queue.put_nowait(message)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self.closed:
            message = await self._queue.get()
            if message is None:
                return
            self.pulled += 1
            yield Delivery(message, self._acker(message), self._nacker(message))

    def _acker(self, message: Message):  # type: ignore[no-untyped-def]
        async def ack(outputs: Sequence[Message]) -> None:
            self._settle(Settlement(message, True, list(outputs)))

        return ack

    def _nacker(self, message: Message):  # type: ignore[no-untyped-def]
        async def nack(error: BaseException) -> None:
            self._settle(Settlement(message, False, error=error))

        return nack

    def _settle(self, settlement: Settlement) -> None:
        self.settlements.append(settlement)
        self.settled.set()

    async def wait_settled(self, count: int, within: float = 10.0) -> list[Settlement]:
        async def until() -> None:
            while len(self.settlements) < count:
                self.settled.clear()
                await self.settled.wait()

        await asyncio.wait_for(until(), within)
        return self.settlements

    async def close(self) -> None:
        self.closed = True
        self._queue.put_nowait(None)


class RecordingSink(Sink):
    """Records every message it confirms. ``fail_with`` makes it raise; ``gate`` holds it."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.fail_with: BaseException | None = None
        self.gate: asyncio.Event | None = None
        self.waiting = 0
        self.closed = False

    async def send(self, message: Message) -> None:
        if self.gate is not None:
            self.waiting += 1
            try:
                await self.gate.wait()
            finally:
                self.waiting -= 1
        if self.fail_with is not None:
            raise self.fail_with
        self.received.append(message)

    async def close(self) -> None:
        self.closed = True
