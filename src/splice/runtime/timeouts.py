"""Time limits on sink calls and steps.

A call that runs past its limit is cancelled and raises :class:`CallTimedOut`, which is
both a :class:`~splice.errors.TransientError` (so it is retried and named in the
dead-letter entry like any other connector error) and a built-in :class:`TimeoutError`.

:func:`within` limits one call; :class:`CallDeadlines` is the same limit for every call
through one sink with one shared timer and no coroutine (the sink hot path).
:class:`StepClock` limits each step of one message with a single timer for the whole run
(the pipeline's hot path): starting a step only moves the deadline, and the timer, when it
fires early, re-arms itself for the current deadline.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar

from splice.components.interfaces import Step
from splice.errors import TransientError
from splice.message import Message

__all__ = ["CallDeadlines", "CallTimedOut", "Deadline", "StepClock", "TimedStep", "within"]

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


_RESOLUTION = time.get_clock_info("monotonic").resolution
"""What the event loop allows a timer to be early by (its ``_clock_resolution``)."""


class CallDeadlines:
    """The time limit of every call through one sink (one ``seconds``), with one timer.

    Per call, :meth:`start` right before awaiting it; afterwards :meth:`Deadline.done`
    when it returned, or :meth:`Deadline.failed` with what it raised, which answers the
    :class:`CallTimedOut` to raise instead when this limit ended the call, exactly as
    :func:`within` would have::

        deadline = deadlines.start()
        try:
            await call
        except BaseException as error:
            timed_out = deadline.failed(error, what)
            if timed_out is not None:
                raise timed_out from error
            raise
        deadline.done()

    No coroutine, no context manager, and no timer per call: as every call gets the same
    ``seconds``, the calls' deadlines come in the order the calls started, so they queue
    up and one timer, armed for the oldest, serves them all. When it rings it cancels the
    tasks of the calls that are due and still running, skips those that ended, and re-arms
    for the next; an ended call is only marked. As with :func:`asyncio.timeout`, a
    cancellation from elsewhere is left alone.
    """

    __slots__ = ("_handle", "_loop", "_pending", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[Deadline] = deque()
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> Deadline:
        """A call starts in the current task; its limit runs from now."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new loop: nothing carries over
            self.close()
            self._loop = loop
            self._pending.clear()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("a sink call deadline should be used inside a task")
        deadline = Deadline(self, task, loop.time() + self.seconds)
        self._pending.append(deadline)
        if self._handle is None:
            self._handle = loop.call_at(deadline.due, self._ring)
        return deadline

    def _ring(self) -> None:
        self._handle = None
        loop, pending = self._loop, self._pending
        assert loop is not None
        late = loop.time() + _RESOLUTION  # what the loop itself counts as due
        while pending:
            head = pending[0]
            if head.ended:
                pending.popleft()
            elif head.due < late:
                pending.popleft()
                head.fired = True
                head.task.cancel()
            else:
                self._handle = loop.call_at(head.due, self._ring)
                return

    def _trim(self) -> None:
        pending = self._pending
        while pending and pending[0].ended:
            pending.popleft()

    def close(self) -> None:
        """Stop the timer (the sink is closed); calls started later arm it again."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class Deadline:
    """The limit of one call, from :meth:`CallDeadlines.start`."""

    __slots__ = ("_cancelling", "_owner", "due", "ended", "fired", "task")

    def __init__(self, owner: CallDeadlines, task: asyncio.Task[object], due: float) -> None:
        self._owner = owner
        self.task = task
        self._cancelling = task.cancelling()
        self.due = due
        self.fired = False
        self.ended = False

    def done(self) -> None:
        """The call returned (a cancellation of this limit it swallowed is forgotten)."""
        self.ended = True
        self._owner._trim()
        if self.fired:
            self.fired = False
            self.task.uncancel()

    def failed(self, error: BaseException, what: str) -> CallTimedOut | None:
        """The call raised ``error``: the CallTimedOut to raise instead, if the limit ended it."""
        self.ended = True
        self._owner._trim()
        if not self.fired:
            return None
        self.fired = False
        ours = self.task.uncancel() <= self._cancelling
        seconds = self._owner.seconds
        if type(error) is asyncio.CancelledError:
            return CallTimedOut(what, seconds) if ours else None
        # like within(): a TimeoutError of the call's own, once the limit has passed
        return CallTimedOut(what, seconds) if isinstance(error, TimeoutError) else None


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


class StepClock:
    """The time limits of the steps one message goes through, in the task running them.

    ``start(seconds)`` before each step; after it, ``expired()`` when it raised
    :class:`asyncio.CancelledError` (True when this clock cancelled it; as with
    :func:`asyncio.timeout`, a cancellation from elsewhere is left alone), else ``settle()``;
    ``close()`` once the steps are done. A step that never awaits cannot be interrupted.
    """

    __slots__ = ("_armed", "_cancelling", "_due", "_handle", "_loop", "_task", "fired")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._cancelling = task.cancelling()
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._armed = 0.0
        self.fired = False

    def start(self, seconds: float | None) -> None:
        """A step starts and may run for ``seconds`` (``None``: no limit)."""
        if seconds is None:
            self._due = math.inf
            return
        self._due = due = self._loop.time() + seconds
        if self._handle is None or due < self._armed:
            if self._handle is not None:
                self._handle.cancel()
            self._armed = due
            self._handle = self._loop.call_at(due, self._ring)

    def _ring(self) -> None:
        self._handle = None
        if self._due <= self._armed:  # the running step's own deadline
            self.fired = True
            self._task.cancel()
        elif self._due != math.inf:  # a later step is running: wait for its deadline
            self._armed = self._due
            self._handle = self._loop.call_at(self._due, self._ring)

    def expired(self) -> bool:
        """After a step ended in CancelledError: True when this clock's limit caused it."""
        if not self.fired:
            return False
        self.fired = False
        return self._task.uncancel() <= self._cancelling

    def settle(self) -> None:
        """After a step ended otherwise: forget a cancellation it swallowed."""
        if self.fired:
            self.fired = False
            self._task.uncancel()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
