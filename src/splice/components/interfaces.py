"""The narrow contracts between the runtime and its components.

Lifecycle, for every component: the runtime calls ``open()`` once before use (it may retry
``open`` with backoff when it raises :class:`~splice.errors.NotConnected`), then uses it
from one event loop, then calls ``close()``, which must be safe to call twice. A component
never retries, times out or dead-letters by itself: the runtime wraps those around it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from splice.message import Message

__all__ = ["Delivery", "Sink", "Source", "Step"]

AckCallback = Callable[[Sequence[Message]], Awaitable[None]]
NackCallback = Callable[[BaseException], Awaitable[None]]


async def _noop_ack(outputs: Sequence[Message]) -> None:
    return None


async def _noop_nack(error: BaseException) -> None:
    return None


class Delivery:
    """A message handed over by a source, with the means to settle it exactly once.

    ``ack(outputs)`` is called only after every sink confirmed (``outputs`` are the messages
    the sinks received, so a synchronous source can reply with them); ``nack(error)`` when
    the message could not be delivered and was not committed anywhere, so the source must
    keep it (redeliver, leave the file, answer an error).
    """

    __slots__ = ("_ack", "_nack", "message", "settled")

    def __init__(
        self,
        message: Message,
        ack: AckCallback = _noop_ack,
        nack: NackCallback = _noop_nack,
    ) -> None:
        self.message = message
        self._ack = ack
        self._nack = nack
        self.settled = False

    async def ack(self, outputs: Sequence[Message] = ()) -> None:
        if not self.settled:
            self.settled = True
            await self._ack(outputs)

    async def nack(self, error: BaseException) -> None:
        if not self.settled:
            self.settled = True
            await self._nack(error)


class Source(ABC):
    """Produces deliveries. ``deliveries()`` ends after ``close()`` has been called."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect or bind. Raise NotConnected to be retried."""

    @abstractmethod
    def deliveries(self) -> AsyncIterator[Delivery]:
        """Yield deliveries until closed. Not pulling is backpressure."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop producing; deliveries already yielded may still be settled after this."""


class Sink(ABC):
    """Delivers messages. ``send`` returns only once the receiver confirmed."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect. Raise NotConnected to be retried."""

    @abstractmethod
    async def send(self, message: Message) -> None:
        """Deliver and wait for confirmation; raise TransientError or PermanentError."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and disconnect; safe to call twice."""


class Step(ABC):
    """Transforms one message into zero, one or many messages."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare (compile expressions, load schemas)."""

    @abstractmethod
    async def process(self, message: Message) -> list[Message]:
        """Return the messages to pass on; raise MessageError for a bad message."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; safe to call twice."""


def describe(component: Any) -> str:
    """A short name for logs."""
    return type(component).__name__
