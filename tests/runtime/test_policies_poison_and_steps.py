"""Poison messages are counted and quarantined; steps get a time limit."""

from __future__ import annotations

import asyncio

import pytest

from splice.components.interfaces import Step
from splice.errors import CodecError, TransientError, is_transient
from splice.message import Message
from splice.runtime.policies import PoisonTracker
from splice.runtime.timeouts import CallTimedOut, TimedStep, within


def test_a_message_is_quarantined_after_n_crashes() -> None:
    tracker = PoisonTracker(quarantine_after=3)

    verdicts = [tracker.record("01J-poison", KeyError("items")) for _ in range(3)]

    assert verdicts == [False, False, True]
    assert tracker.should_quarantine("01J-poison")
    assert not tracker.should_quarantine("01J-other")


@pytest.mark.parametrize(
    "error",
    [TransientError("busy"), CodecError("bad bytes"), ConnectionError("reset"), TimeoutError()],
    ids=["transient", "message-error", "connection", "timeout"],
)
def test_known_failures_are_not_crashes(error: BaseException) -> None:
    tracker = PoisonTracker(quarantine_after=1)

    assert tracker.record("01J-msg", error) is False
    assert tracker.crashes("01J-msg") == 0


def test_forget_resets_the_count() -> None:
    tracker = PoisonTracker(quarantine_after=2)
    tracker.record("01J-msg", ValueError("bug"))

    tracker.forget("01J-msg")
    tracker.record("01J-msg", ValueError("bug"))

    assert tracker.crashes("01J-msg") == 1
    assert not tracker.should_quarantine("01J-msg")


def test_only_the_most_recent_message_ids_are_remembered() -> None:
    tracker = PoisonTracker(quarantine_after=1, capacity=2)

    for message_id in ("a", "b", "c"):
        tracker.record(message_id, ValueError("bug"))

    assert [tracker.crashes(m) for m in ("a", "b", "c")] == [0, 1, 1]


class SlowStep(Step):
    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.events: list[str] = []

    async def open(self) -> None:
        self.events.append("open")

    async def process(self, message: Message) -> list[Message]:
        if self.hang:
            await asyncio.Event().wait()
        return [message]

    async def close(self) -> None:
        self.events.append("close")


async def test_a_step_past_its_timeout_fails_transiently() -> None:
    timed = TimedStep(SlowStep(hang=True), timeout=0.01)

    with pytest.raises(CallTimedOut) as raised:
        await timed.process(Message(body={}))

    assert isinstance(raised.value, TimeoutError)
    assert is_transient(raised.value)
    assert str(raised.value) == "step timed out after 0.01s"


async def test_a_step_within_its_timeout_passes_its_messages_on() -> None:
    inner = SlowStep(hang=False)
    timed = TimedStep(inner, timeout=None)
    message = Message(body={})

    await timed.open()
    assert await timed.process(message) == [message]
    await timed.close()

    assert inner.events == ["open", "close"]


async def test_a_timeout_error_of_the_call_itself_is_not_renamed() -> None:
    async def call() -> None:
        raise TimeoutError("the driver's own timeout")

    with pytest.raises(TimeoutError, match="driver's own") as raised:
        await within(call(), 5.0, "sink call")

    assert not isinstance(raised.value, CallTimedOut)
