"""Test-only steps, registered by the ``components`` fixture of conftest.py."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.message import Message


class RouteConfig(ComponentConfig):
    to: list[str] = Field(description="Sinks every message goes to.")


class RouteTo(Step):
    def __init__(self, config: RouteConfig, context: Any) -> None:
        self.to = tuple(config.to)

    async def process(self, message: Message) -> list[Message]:
        message.targets = self.to
        return [message]


class CrashConfig(ComponentConfig):
    pass


class CrashOnArrays(Step):
    """A planted bug: a top-level array makes it raise a bare KeyError."""

    def __init__(self, config: CrashConfig, context: Any) -> None:
        pass

    async def process(self, message: Message) -> list[Message]:
        if isinstance(message.body, list):
            raise KeyError("planted")
        return [message]


ROUTE = ComponentSpec(
    kind="step",
    name="t-route",
    summary="Send every message to the given sinks.",
    config=RouteConfig,
    example="t-route: [a]",
    factory="tests.flowtest.components:RouteTo",
    shorthand="to",
)
CRASH = ComponentSpec(
    kind="step",
    name="t-crash",
    summary="Crash on a top-level array.",
    config=CrashConfig,
    example="t-crash: {}",
    factory="tests.flowtest.components:CrashOnArrays",
)
