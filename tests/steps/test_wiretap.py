"""The wiretap step: the main path is unchanged; copies reach the channel, failures count."""

from __future__ import annotations

import asyncio
from pathlib import Path

from splice.components.context import Context, SharedResources
from splice.connectors.channel.hub import ChannelHub
from splice.message import Message
from splice.steps.wiretap import SPEC, WiretapStep


def _step(raw: object, shared: SharedResources) -> WiretapStep:
    step = SPEC.build(SPEC.parse(raw), Context(Path("."), "orders", shared=shared))
    assert isinstance(step, WiretapStep)
    return step


async def test_copy_reaches_the_channel_and_the_message_passes_unchanged() -> None:
    shared = SharedResources()
    group = shared.get("channels", ChannelHub).subscribe("audit.*", "auditors")
    step = _step("audit.orders", shared)
    await step.open()
    message = Message({"id": 1}, targets=("erp",))
    assert await step.process(message) == [message]
    message.body["id"] = 2  # later steps change the original, not the copy
    await asyncio.wait_for(group.wait_ready(), 5)
    envelope = group.take()
    assert envelope is not None
    assert envelope.message.body == {"id": 1}
    assert envelope.message.correlation_id == message.correlation_id
    envelope.settle(None)
    while step.stats()["published"] < 1:
        await asyncio.sleep(0.01)
    await step.close()


async def test_no_subscriber_and_full_buffer_are_counted_not_raised() -> None:
    step = _step({"channel": "nobody", "buffer": 1}, SharedResources())
    for _ in range(3):
        assert len(await step.process(Message({}))) == 1
    while step.stats()["failed"] < 1:
        await asyncio.sleep(0.01)
    stats = step.stats()
    assert stats["dropped"] >= 1
    assert stats["published"] == 0
    await step.close()
    await step.close()
