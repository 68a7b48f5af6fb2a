"""Time limits on sink calls and steps.

A call that runs past its limit is cancelled and raises :class:`CallTimedOut`, which is
both a :class:`~splice.errors.TransientError` (so it is retried and named in the
dead-letter entry like any other connector error) and a built-in :class:`TimeoutError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from splice.components.interfaces import Step
from splice.errors import TransientError
from splice.message import Message

__all__ = ["CallTimedOut", "TimedStep", "within"]

T = TypeVar("T")


class CallTimedOut(TransientError, TimeoutError):
    """A sink call or a step took longer than its ``timeout``."""

    code = "timeout"

    def __init__(self, what: str, timeout: float) -> None:
        super().__init__(f"{what} timed out after {timeout:g}s")
        self.timeout = timeout


async def within(call: Awaitable[T], seconds: float | None, what: str) -> T:
    """Await ``call``; past ``seconds`` (``None``: no limit) raise CallTimedOut."""
    if seconds is None:
        return await call
    limit = asyncio.timeout(seconds)
    try:
        async with limit:
            return await call
    except TimeoutError as exc:
        if not limit.expired():
            raise  # the call's own TimeoutError, not our limit
        raise CallTimedOut(what, seconds) from exc


class TimedStep(Step):
    """A step whose ``process`` may take at most ``timeout`` seconds per message."""

    def __init__(self, step: Step, timeout: float | None) -> None:
        self.step = step
        self.timeout = timeout

    async def open(self) -> None:
        await self.step.open()

    async def process(self, message: Message) -> list[Message]:
        return await within(self.step.process(message), self.timeout, "step")

    async def close(self) -> None:
        await self.step.close()
