"""``wiretap``: publish a copy of each message to an in-process channel, off the main path.

The message passes on unchanged at once; its copy goes into a bounded buffer that a
background task publishes to the channel hub (``context.shared.get("channels", ChannelHub)``).
When the buffer is full the copy is dropped; a publish that fails (no subscriber, a
subscriber group failing it) is logged. Both are counted in :meth:`WiretapStep.stats`:
a wire tap never slows down, fails or holds back the flow it listens to.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.channel.hub import ChannelHub
from splice.message import Message

__all__ = ["SPEC", "WiretapConfig", "WiretapStep"]

log = logging.getLogger("splice.steps.wiretap")


class WiretapConfig(ComponentConfig):
    channel: str = Field(description="The channel (topic) the copies are published to.")
    buffer: int = Field(100, ge=1, description="Copies waiting to be published, at most.")


SPEC = ComponentSpec(
    kind="step",
    name="wiretap",
    summary="Publish a copy of each message to a channel without affecting the flow.",
    config=WiretapConfig,
    example="wiretap: audit.orders",
    factory="splice.steps.wiretap:WiretapStep",
    shorthand="channel",
    description=(
        "Fire-and-forget: copies that do not fit the buffer, or that no subscriber takes, "
        "are logged and counted, never retried. Read them with a `channel` source."
    ),
)


class WiretapStep(Step):
    def __init__(self, config: WiretapConfig, context: Context) -> None:
        self._hub = context.shared.get("channels", ChannelHub)
        self._channel = config.channel
        self._queue: asyncio.Queue[Message] = asyncio.Queue(config.buffer)
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0
        self.failed = 0

    async def open(self) -> None:
        self._start()

    async def process(self, message: Message) -> list[Message]:
        self._start()
        body = message.body if message.is_encoded else copy.deepcopy(message.body)
        tapped = message.derive(body)
        tapped.plain = message.plain  # a copy of plain data is plain
        tapped.targets = None
        try:
            self._queue.put_nowait(tapped)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("wiretap %s: buffer full, copy of %s dropped", self._channel, message.id)
        return [message]

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def stats(self) -> dict[str, int]:
        """Copies published, dropped (buffer full) and failed (publish error)."""
        return {"published": self.published, "dropped": self.dropped, "failed": self.failed}

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._publish_forever())

    async def _publish_forever(self) -> None:
        while True:
            message = await self._queue.get()
            failures: list[BaseException]
            try:
                failures = [error for _, error in await self._hub.publish(self._channel, message)]
            except Exception as error:  # a tap must never stop
                failures = [error]
            if failures:
                self.failed += 1
                log.warning("wiretap %s: copy not taken: %s", self._channel, failures[0])
            else:
                self.published += 1
