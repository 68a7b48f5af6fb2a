"""``channel`` sink: publish to an internal channel, confirmed end to end.

``send`` returns once every group subscribed to the channel has processed its copy (its
flow acked the delivery). A group that nacked makes ``send`` fail: PermanentError when the
subscriber found the message bad (a MessageError, carried as ``__cause__``), TransientError
otherwise, so the publisher's own delivery is retried or dead-lettered by its runtime.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.channel.hub import ChannelHub
from splice.errors import MessageError, PermanentError, TransientError
from splice.message import Message

__all__ = ["SPEC", "ChannelSink", "ChannelSinkConfig"]


class ChannelSinkConfig(ComponentConfig):
    name: str = Field(description="Channel (topic) to publish to, e.g. `orders.created`.")

    @field_validator("name")
    @classmethod
    def _plain_topic(cls, name: str) -> str:
        words = name.split(".")
        if any(word in ("", "*", ">") for word in words):
            raise ValueError("a channel to publish to is dot-separated words, without * or >")
        return name


SPEC = ComponentSpec(
    kind="sink",
    name="channel",
    summary="Publish to an internal channel; confirmed once every subscribing flow processed it.",
    config=ChannelSinkConfig,
    example="channel: orders.accepted",
    factory="splice.connectors.channel.sink:ChannelSink",
    shorthand="name",
    description=(
        "Each subscribing group gets a copy (new id, same correlation id, headers and lineage, "
        "plus `channel.name`). With no group subscribed yet, `send` fails with a transient "
        "error, retried under the flow's policy."
    ),
)


class ChannelSink(Sink):
    def __init__(self, config: ChannelSinkConfig, context: Context) -> None:
        self._topic = config.name
        self._hub = context.shared.get("channels", ChannelHub)

    async def send(self, message: Message) -> None:
        failures = await self._hub.publish(self._topic, message)
        for group, error in failures:
            if isinstance(error, MessageError):
                raise PermanentError(
                    f"channel '{self._topic}': group '{group.name}' refused the message: {error}",
                    code=error.code,
                ) from error
        for group, error in failures:
            raise TransientError(
                f"channel '{self._topic}': group '{group.name}' failed: {error}"
            ) from error
