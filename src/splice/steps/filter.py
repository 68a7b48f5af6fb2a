"""``filter``: keep the messages a JSONata predicate holds for; count the others.

A dropped message is never lost silently: the step counts it (see :meth:`FilterStep.stats`)
and logs it at debug level with its id. The source delivery of a dropped message is
acknowledged (``on_drop: ack``): filtering it out *is* its successful outcome.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message

__all__ = ["SPEC", "FilterConfig", "FilterStep", "decoded", "holds"]

log = logging.getLogger("splice.steps.filter")


class FilterConfig(ComponentConfig):
    when: str = Field(
        description="JSONata predicate on the decoded body (and `$headers`): keep when true."
    )
    on_drop: Literal["ack"] = Field(
        "ack", description="What happens to the source delivery of a dropped message."
    )


SPEC = ComponentSpec(
    kind="step",
    name="filter",
    summary="Keep messages for which a JSONata predicate is true; dropped ones are counted.",
    config=FilterConfig,
    example='filter: status = "paid"',
    factory="splice.steps.filter:FilterStep",
    shorthand="when",
    description=(
        "The predicate is true when it yields a truthy value (false, 0, empty text, empty "
        "list or object, null and no value are false). Dropped messages are acked, counted "
        "in the step's stats and logged at debug level."
    ),
)


def decoded(message: Message, step: str) -> Any:
    """The decoded body; MessageError when a codec has not decoded it yet."""
    if message.is_encoded:
        raise MessageError(
            f"{step} needs a decoded body: add a 'decode' step before it", code="not-decoded"
        )
    return message.body


def holds(value: Any) -> bool:
    """JSONata truthiness of a predicate's result."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, list):
        return any(holds(item) for item in value)
    return bool(value)


class FilterStep(Step):
    def __init__(self, config: FilterConfig, context: Context) -> None:
        self._predicate = compile_mapping(config.when)
        self._where = context.component or "filter"
        self.kept = 0
        self.dropped = 0

    async def process(self, message: Message) -> list[Message]:
        data = decoded(message, "filter")
        if holds(self._predicate.evaluate(data, headers=message.headers, plain=message.plain)):
            self.kept += 1
            return [message]
        self.dropped += 1
        log.debug("%s dropped message %s (predicate false)", self._where, message.id)
        return []

    def stats(self) -> dict[str, int]:
        """Messages kept and dropped since the step was built."""
        return {"kept": self.kept, "dropped": self.dropped}
