"""Step time limits in the pipeline: one clock per message, each step its own limit."""

from __future__ import annotations

import asyncio

import pytest

from splice.components.interfaces import Step
from splice.errors import MessageError, is_transient
from splice.message import Message
from splice.runtime.pipeline import BoundStep, Pipeline
from splice.runtime.timeouts import CallTimedOut, StepClock, TimedStep


class Sleeps(Step):
    """Waits ``seconds`` (forever when None) and passes the message on."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.calls = 0

    async def process(self, message: Message) -> list[Message]:
        self.calls += 1
        if self.seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.seconds)
        return [message]


class Raises(Step):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def process(self, message: Message) -> list[Message]:
        await asyncio.sleep(0)
        raise self.error


class SyncOnly(Step):
    """A step that never waits: the pipeline calls process_sync, never process."""

    def __init__(self) -> None:
        self.sync_calls = 0

    async def process(self, message: Message) -> list[Message]:
        raise AssertionError("process_sync should have been called")

    def process_sync(self, message: Message) -> list[Message]:
        self.sync_calls += 1
        return [message, message.derive({"copy": True})]


def pipeline(*steps: Step, timeout: float | None = None) -> Pipeline:
    bound = [BoundStep(f"steps[{i}]", TimedStep(s, timeout)) for i, s in enumerate(steps)]
    return Pipeline("orders", bound, [])


async def test_a_step_past_its_limit_fails_with_the_step_named() -> None:
    with pytest.raises(CallTimedOut) as raised:
        await pipeline(Sleeps(0), Sleeps(None), timeout=0.05).run(Message(body={}))

    assert isinstance(raised.value, TimeoutError)
    assert is_transient(raised.value)
    assert str(raised.value) == "flow 'orders', steps[1]: step timed out after 0.05s"
    assert raised.value.component == "steps[1]"


async def test_each_step_has_its_own_limit_not_the_whole_message() -> None:
    # together the steps take longer than one limit; each alone stays well within it
    steps = [Sleeps(0.4), Sleeps(0.4), Sleeps(0.4)]

    outputs = await pipeline(*steps, timeout=1.0).run(Message(body={"n": 1}))

    assert [m.body for m in outputs] == [{"n": 1}]
    assert [s.calls for s in steps] == [1, 1, 1]


async def test_a_shorter_limit_of_a_later_step_is_kept() -> None:
    bound = [
        BoundStep("steps[0]", TimedStep(Sleeps(0), 60.0)),
        BoundStep("steps[1]", TimedStep(Sleeps(None), 0.05)),
    ]

    with pytest.raises(CallTimedOut, match=r"steps\[1\]: step timed out after 0.05s"):
        await asyncio.wait_for(Pipeline("orders", bound, []).run(Message(body={})), 30)


async def test_a_step_without_limit_is_not_cut_by_an_earlier_steps_clock() -> None:
    bound = [
        BoundStep("steps[0]", TimedStep(Sleeps(0), 0.05)),
        BoundStep("steps[1]", Sleeps(0.3)),
    ]

    assert len(await Pipeline("orders", bound, []).run(Message(body={}))) == 1


async def test_a_steps_own_errors_pass_unchanged() -> None:
    own_timeout = TimeoutError("the driver's own timeout")

    with pytest.raises(TimeoutError, match="driver's own") as raised:
        await pipeline(Raises(own_timeout), timeout=5.0).run(Message(body={}))
    assert not isinstance(raised.value, CallTimedOut)

    with pytest.raises(MessageError, match="flow 'orders', steps\\[0\\]: bad"):
        await pipeline(Raises(MessageError("bad")), timeout=5.0).run(Message(body={}))


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    task = asyncio.create_task(pipeline(Sleeps(None), timeout=30.0).run(Message(body={})))
    await asyncio.sleep(0.01)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_clock_leaves_the_task_uncancelled_after_a_timeout() -> None:
    with pytest.raises(CallTimedOut):
        await pipeline(Sleeps(None), timeout=0.01).run(Message(body={}))

    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await asyncio.sleep(0)  # still runs: nothing left pending on this task


async def test_a_step_that_never_waits_is_called_directly() -> None:
    step = SyncOnly()

    outputs = await pipeline(step, timeout=1.0).run(Message(body={"n": 1}))

    assert step.sync_calls == 1
    assert [m.body for m in outputs] == [{"n": 1}, {"copy": True}]


async def test_the_clock_re_arms_for_the_running_steps_deadline() -> None:
    clock = StepClock()
    clock.start(60.0)
    first = clock._handle
    clock.start(60.0)  # a later step: the timer is not replaced ...
    assert clock._handle is first
    clock.start(0.01)  # ... unless the new deadline comes sooner

    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(30)

    assert clock.expired()
    clock.close()


class SyncOnceOpen(Step):
    """Offers process_sync only once open (as a step wrapping another may)."""

    def __init__(self) -> None:
        self.sync_calls = 0

    async def open(self) -> None:
        self.process_sync = self._now

    async def process(self, message: Message) -> list[Message]:
        raise AssertionError("process_sync should have been called")

    def _now(self, message: Message) -> list[Message]:
        self.sync_calls += 1
        return [message]


async def test_process_sync_is_looked_up_after_the_steps_are_open() -> None:
    step = SyncOnceOpen()
    flow = pipeline(step, timeout=1.0)
    await flow.steps[0].step.open()

    await flow.run(Message(body={}))

    assert step.sync_calls == 1
