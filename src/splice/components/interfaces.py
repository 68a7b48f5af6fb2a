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
AcceptCallback = Callable[[], Awaitable[None]]


async def _noop_ack(outputs: Sequence[Message]) -> None:
    return None


async def _noop_nack(error: BaseException) -> None:
    return None


class Delivery:
    """A message handed over by a source, with the means to settle it exactly once.

    ``ack(outputs)`` is called only after every sink confirmed (``outputs`` are the messages
    the sinks received, so a synchronous source can reply with them) or after the message
    was committed to the dead-letter queue; ``nack(error)`` when the message could not be
    delivered and was not committed anywhere, so the source must keep it (redeliver, leave
    the file, answer an error).

    Two kinds of source declare more:

    - ``caller_waits``: a caller is waiting for the outcome (a synchronous HTTP reply). A
      failure is answered to the caller, who still holds the message, so the runtime nacks
      it with the error instead of dead-lettering it.
    - ``accept`` given: the source cannot redeliver once it let go (an HTTP request answered
      202). The runtime first writes the message to the store's journal and then calls
      ``accept()``, so the source may let go; unfinished journal entries are resumed at start.
    """

    __slots__ = ("_accept", "_ack", "_nack", "caller_waits", "message", "needs_journal", "settled")

    def __init__(
        self,
        message: Message,
        ack: AckCallback = _noop_ack,
        nack: NackCallback = _noop_nack,
        *,
        accept: AcceptCallback | None = None,
        caller_waits: bool = False,
    ) -> None:
        self.message = message
        self._ack = ack
        self._nack = nack
        self._accept = accept
        self.needs_journal = accept is not None
        self.caller_waits = caller_waits
        self.settled = False

    async def accept(self) -> None:
        """The message is safely journaled: the source may let go of it."""
        accept, self._accept = self._accept, None
        if accept is not None:
            await accept()

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
        """Connect or bind. Raise NotConnected when the endpoint is down: the flow does not
        start. A source that can connect later instead lets the flow start and connects
        from ``deliveries()`` (:mod:`splice.components.reconnect`; AMQP, MQTT, NATS, Redis)."""

    @abstractmethod
    def deliveries(self) -> AsyncIterator[Delivery]:
        """Yield deliveries until closed. Not pulling is backpressure."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop producing; deliveries already yielded may still be settled after this."""


class Sink(ABC):
    """Delivers messages. ``send`` returns only once the receiver confirmed."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect. Raise NotConnected when the endpoint is down: the flow starts anyway and
        each send opens the sink first (:class:`~splice.runtime.retry.RetryingSink`)."""

    @abstractmethod
    async def send(self, message: Message) -> None:
        """Deliver and wait for confirmation; raise TransientError or PermanentError."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and disconnect; safe to call twice."""


class Step(ABC):
    """Transforms one message into zero, one or many messages.

    Optional hook: a step whose ``process`` never awaits may also define
    ``process_sync(message) -> list[Message]`` doing the same work. The pipeline looks it up
    once the step is open and then calls it directly, without a coroutine and without the
    flow's step timeout (code that never awaits cannot be interrupted by one anyway).
    """

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
