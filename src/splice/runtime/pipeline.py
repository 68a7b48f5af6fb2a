"""A flow compiled into its steps and sinks: one message in, its deliveries confirmed.

The pipeline knows nothing about where a message came from: it runs the steps in order
(each returns zero, one or many messages), hands every resulting message to its sinks
(all of the flow's sinks, or the ones a routing step chose) and returns the messages the
sinks confirmed. Any error escapes to the caller, annotated with the flow and the
component it happened in, so that the source delivery can be settled accordingly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from splice.components.interfaces import Sink, Step
from splice.errors import MessageError, PermanentError, SpliceError
from splice.message import Message

__all__ = ["BoundSink", "BoundStep", "Pipeline"]


@dataclass(frozen=True, slots=True)
class BoundStep:
    path: str
    step: Step


@dataclass(frozen=True, slots=True)
class BoundSink:
    name: str
    path: str
    sink: Sink


class Pipeline:
    """Steps then sinks, for one flow version."""

    def __init__(self, flow: str, steps: Sequence[BoundStep], sinks: Sequence[BoundSink]) -> None:
        self.flow = flow
        self.steps = tuple(steps)
        self.sinks = {bound.name: bound for bound in sinks}
        self._all_sinks = tuple(sinks)

    async def run(self, message: Message) -> list[Message]:
        """Process one message; return what the sinks confirmed. Raises on any failure."""
        return await self.run_from(0, [message])

    async def run_from(self, start: int, messages: list[Message]) -> list[Message]:
        """Run ``messages`` through the steps from index ``start`` on, then the sinks."""
        for bound in self.steps[start:]:
            messages = await self._step(bound, messages)
            if not messages:
                return []
        for out in messages:
            await self._deliver(out)
        return messages

    def inner_steps(self) -> list[tuple[int, Step]]:
        """Each step as built by its component (unwrapped from timeouts), with its index."""
        return [
            (index, getattr(bound.step, "step", bound.step))
            for index, bound in enumerate(self.steps)
        ]

    async def release(self, message: Message) -> None:
        """Undo what steps claimed for a message that was not delivered (idempotency keys)."""
        await self._call_hooks("release", message)

    async def confirm(self, message: Message) -> None:
        """Tell steps that a message was delivered (idempotency keys are taken for good)."""
        await self._call_hooks("confirm", message)

    async def _call_hooks(self, name: str, message: Message) -> None:
        for _, step in self.inner_steps():
            hook = getattr(step, name, None)
            if hook is not None:
                await hook(message)

    async def _step(self, bound: BoundStep, messages: list[Message]) -> list[Message]:
        produced: list[Message] = []
        for message in messages:
            try:
                produced.extend(await bound.step.process(message))
            except SpliceError as error:
                raise _annotate(error, self.flow, bound.path, message) from None
        return produced

    async def _deliver(self, message: Message) -> None:
        targets = self._targets(message)
        if len(targets) == 1:
            await self._send(targets[0], message)
            return
        results = await asyncio.gather(
            *(self._send(bound, message) for bound in targets), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _send(self, bound: BoundSink, message: Message) -> None:
        try:
            await bound.sink.send(message)
        except SpliceError as error:
            raise _annotate(error, self.flow, bound.path, message) from None
        message.record(self.flow, bound.path, "delivered")

    def _targets(self, message: Message) -> tuple[BoundSink, ...]:
        if message.targets is None:
            return self._all_sinks
        try:
            return tuple(self.sinks[name] for name in message.targets)
        except KeyError as missing:
            raise PermanentError(
                f"flow '{self.flow}': message routed to unknown sink {missing}"
            ) from None


def _annotate(error: SpliceError, flow: str, path: str, message: Message) -> SpliceError:
    """Name the flow and component in the error text, once."""
    prefix = f"flow '{flow}', {path}: "
    if not error.message.startswith("flow '"):
        error.message = prefix + error.message
        error.component = path
    if isinstance(error, MessageError):
        error.step = error.step or path
        error.message_id = error.message_id or message.id
    return error
