"""``channel`` source: receive what other flows publish to an internal channel.

The source joins a *group* (default: its flow's name). Every group gets every message;
the sources of one group compete. Acking or nacking a delivery is what the publisher's
``send`` waits for. Closing leaves the group subscribed (remembered by the hub), so a
reloading flow loses nothing: messages wait for its new source.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.channel.hub import ChannelHub, Envelope, Group
from splice.message import Message

__all__ = ["SPEC", "ChannelSource", "ChannelSourceConfig"]


class ChannelSourceConfig(ComponentConfig):
    name: str = Field(
        description="Channel to receive from; `*` matches one word (`orders.*`), a final `>` "
        "one or more."
    )
    group: str | None = Field(
        None,
        description="Subscription name (default: this flow's name). Sources of one group "
        "share its messages; each group gets every message.",
    )
    buffer: int = Field(64, ge=1, description="Messages a group holds before publishers wait.")


SPEC = ComponentSpec(
    kind="source",
    name="channel",
    summary="Receive the messages other flows publish to an internal channel.",
    config=ChannelSourceConfig,
    example="channel: {name: orders.accepted, group: billing}",
    factory="splice.connectors.channel.source:ChannelSource",
    shorthand="name",
    scales_out=True,
)


class ChannelSource(Source):
    def __init__(self, config: ChannelSourceConfig, context: Context) -> None:
        self._config = config
        self._group_name = config.group or context.flow
        self._hub = context.shared.get("channels", ChannelHub)
        self._group: Group | None = None
        self._closed = asyncio.Event()

    async def open(self) -> None:
        if self._group is None:
            self._group = self._hub.subscribe(
                self._config.name, self._group_name, self._config.buffer
            )

    async def deliveries(self) -> AsyncIterator[Delivery]:
        if self._group is None:
            raise RuntimeError("open() the channel source before taking deliveries")
        while not self._closed.is_set():
            envelope = self._group.take()
            if envelope is None:
                await _first(self._group.wait_ready(), self._closed.wait())
                continue
            yield Delivery(envelope.message, _acker(envelope), _nacker(envelope))

    async def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            if self._group is not None:
                self._hub.unsubscribe(self._group)


def _acker(envelope: Envelope) -> Callable[[Sequence[Message]], Awaitable[None]]:
    async def ack(outputs: Sequence[Message]) -> None:
        envelope.settle(None)

    return ack


def _nacker(envelope: Envelope) -> Callable[[BaseException], Awaitable[None]]:
    async def nack(error: BaseException) -> None:
        envelope.settle(error)

    return nack


async def _first(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
