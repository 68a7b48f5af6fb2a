"""The filter step: keeps what the predicate holds for, counts and logs what it drops."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from splice.components.context import Context
from splice.errors import MessageError
from splice.message import Message
from splice.steps.filter import SPEC, FilterStep


def _step(raw: object, tmp_path: Path) -> FilterStep:
    step = SPEC.build(SPEC.parse(raw), Context(tmp_path, "orders", component="steps[0].filter"))
    assert isinstance(step, FilterStep)
    return step


async def test_true_predicate_keeps_the_message(tmp_path: Path) -> None:
    step = _step('status = "paid"', tmp_path)
    message = Message({"status": "paid"})
    assert await step.process(message) == [message]


async def test_dropped_messages_are_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = _step({"when": "total > 10"}, tmp_path)
    caplog.set_level(logging.DEBUG, "splice.steps.filter")
    dropped = Message({"total": 5})
    assert await step.process(dropped) == []
    assert await step.process(Message({})) == []
    assert len(await step.process(Message({"total": 11}))) == 1
    assert step.stats() == {"kept": 1, "dropped": 2}
    assert dropped.id in caplog.text


async def test_predicate_can_read_headers(tmp_path: Path) -> None:
    step = _step('$headers.region = "eu"', tmp_path)
    assert await step.process(Message({}, headers={"region": "us"})) == []
    assert len(await step.process(Message({}, headers={"region": "eu"}))) == 1


async def test_encoded_body_is_a_message_error(tmp_path: Path) -> None:
    with pytest.raises(MessageError, match="decode"):
        await _step("true", tmp_path).process(Message(b"{}"))


def test_on_drop_accepts_only_ack() -> None:
    with pytest.raises(ValueError, match="ack"):
        SPEC.parse({"when": "true", "on_drop": "nack"})
