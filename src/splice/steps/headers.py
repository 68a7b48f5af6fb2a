"""``remove``: remove message headers by name or glob pattern (``x-internal-*``)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.message import Message

__all__ = ["SPEC", "RemoveConfig", "RemoveStep"]


class RemoveConfig(ComponentConfig):
    headers: list[str] = Field(
        min_length=1,
        description="Header names or glob patterns (`*`, `?`, `[abc]`), matched case-sensitively.",
    )


SPEC = ComponentSpec(
    kind="step",
    name="remove",
    summary="Remove message headers by name or glob pattern.",
    config=RemoveConfig,
    example='remove: {headers: [authorization, "x-internal-*"]}',
    factory="splice.steps.headers:RemoveStep",
    shorthand="headers",
    description="Headers that match none of the names or patterns are kept unchanged.",
)


class RemoveStep(Step):
    def __init__(self, config: RemoveConfig, context: Context) -> None:
        self._patterns = tuple(config.headers)

    async def process(self, message: Message) -> list[Message]:
        for name in [name for name in message.headers if self._matches(name)]:
            del message.headers[name]
        return [message]

    def _matches(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self._patterns)
