"""A flow compiled into its steps and sinks: one message in, its deliveries confirmed.

The pipeline knows nothing about where a message came from: it runs the steps in order
(each returns zero, one or many messages), hands every resulting message to its sinks
(all of the flow's sinks, or the ones a routing step chose) and returns the messages the
sinks confirmed. Any error escapes to the caller, annotated with the flow and the
component it happened in, so that the source delivery can be settled accordingly.

The hot path is kept lean: a step under a time limit (:class:`TimedStep`) is run by one
:class:`~splice.runtime.timeouts.StepClock` per message instead of a timer per step, and a
step that never waits may offer ``process_sync(message) -> list[Message]`` (looked up at
the first message, after ``open``), which is then called directly, without a coroutine (no
time limit applies to it: code that never awaits cannot be interrupted by one anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from splice.components.interfaces import Sink, Step
from splice.errors import MessageError, PermanentError, SpliceError
from splice.message import Message
from splice.runtime.timeouts import CallTimedOut, StepClock, TimedStep

__all__ = ["BoundSink", "BoundStep", "Pipeline"]


@dataclass(frozen=True, slots=True)
class BoundStep:
    path: str
    step: Step


@dataclass(frozen=True, slots=True)
class _Run:
    """How the pipeline calls one step: directly when it can, else awaited under its limit."""

    path: str
    process: Callable[[Message], Awaitable[list[Message]]]
    process_sync: Callable[[Message], list[Message]] | None
    timeout: float | None

    @classmethod
    def of(cls, bound: BoundStep) -> _Run:
        timed = bound.step if isinstance(bound.step, TimedStep) else None
        step = bound.step if timed is None else timed.step
        timeout = None if timed is None else timed.timeout
        return cls(bound.path, step.process, getattr(step, "process_sync", None), timeout)


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
        self._runs: tuple[_Run, ...] | None = None
        self._synchronous: bool | None = None
        self.hooks = {
            name: tuple(hook for _, s in self.inner_steps() if (hook := getattr(s, name, None)))
            for name in ("confirm", "release")
        }
        """The steps' ``confirm`` and ``release`` methods (idempotency keys), if any."""

    async def run(self, message: Message) -> list[Message]:
        """Process one message; return what the sinks confirmed. Raises on any failure."""
        return await self.run_from(0, [message])

    def _ready_runs(self) -> tuple[_Run, ...]:
        runs = self._runs
        if runs is None:  # looked up once the steps are open: open() may offer process_sync
            runs = self._runs = tuple(_Run.of(bound) for bound in self.steps)
        return runs

    @property
    def synchronous(self) -> bool:
        """Running a message never waits: every step offers ``process_sync``, and there is no
        sink and no idempotency hook. Only meaningful once the steps are open."""
        if self._synchronous is None:
            self._synchronous = (
                not self._all_sinks
                and not any(self.hooks.values())
                and all(run.process_sync is not None for run in self._ready_runs())
            )
        return self._synchronous

    def run_sync(self, message: Message) -> list[Message]:
        """``run`` for a :attr:`synchronous` pipeline, without a coroutine."""
        messages = [message]
        for run in self._ready_runs():
            produced: list[Message] = []
            process = run.process_sync
            assert process is not None
            for each in messages:
                try:
                    produced += process(each)
                except SpliceError as error:
                    raise _annotate(error, self.flow, run.path, each) from None
            if not produced:
                return []
            messages = produced
        for out in messages:
            self._targets(out)  # a message routed to a sink the flow does not have fails
        return messages

    async def run_from(self, start: int, messages: list[Message]) -> list[Message]:
        """Run ``messages`` through the steps from index ``start`` on, then the sinks."""
        runs = self._ready_runs()
        if start < len(runs):
            messages = await self._run_steps(runs[start:], messages)
            if not messages:
                return []
        for out in messages:
            await self._deliver(out)
        return messages

    async def _run_steps(self, runs: tuple[_Run, ...], messages: list[Message]) -> list[Message]:
        clock: StepClock | None = None
        try:
            for run in runs:
                produced: list[Message] = []
                for message in messages:
                    try:
                        if run.process_sync is not None:
                            produced += run.process_sync(message)
                            continue
                        if run.timeout is not None and clock is None:
                            clock = StepClock()
                        if clock is None:
                            produced += await run.process(message)
                        else:
                            produced += await _timed(run, message, clock)
                    except SpliceError as error:
                        raise _annotate(error, self.flow, run.path, message) from None
                if not produced:
                    return []
                messages = produced
        finally:
            if clock is not None:
                clock.close()
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
        for hook in self.hooks[name]:
            await hook(message)

    async def _deliver(self, message: Message) -> None:
        targets = self._targets(message)
        if not targets:
            return
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


async def _timed(run: _Run, message: Message, clock: StepClock) -> list[Message]:
    """Await one step under ``clock``; past its limit raise CallTimedOut, as TimedStep does."""
    clock.start(run.timeout)
    try:
        result = await run.process(message)
    except asyncio.CancelledError as cancelled:
        if clock.expired():
            assert run.timeout is not None
            raise CallTimedOut("step", run.timeout) from cancelled
        raise
    except BaseException:
        clock.settle()
        raise
    clock.settle()
    return result


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
