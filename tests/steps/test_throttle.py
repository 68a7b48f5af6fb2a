"""The throttle step: a burst up to the rate passes, the rest waits; keys share a bucket."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from splice.components.context import Context, SharedResources
from splice.errors import ConfigError
from splice.message import Message
from splice.steps.throttle import SPEC, ThrottleStep


def _step(raw: object, shared: SharedResources, flow: str = "f") -> ThrottleStep:
    context = Context(Path("."), flow, shared=shared, component="steps[0].throttle")
    step = SPEC.build(SPEC.parse(raw), context)
    assert isinstance(step, ThrottleStep)
    return step


async def test_messages_beyond_the_rate_wait_and_none_is_dropped() -> None:
    step = _step({"rate": 5, "per": "200ms"}, SharedResources())
    started = time.monotonic()
    results = await asyncio.gather(*(step.process(Message(i)) for i in range(10)))
    elapsed = time.monotonic() - started
    assert sorted(out.body for [out] in results) == list(range(10))
    assert 0.17 <= elapsed < 1.0


async def test_steps_naming_the_same_key_share_the_limit() -> None:
    shared = SharedResources()
    a = _step({"rate": 2, "per": "200ms", "key": "erp"}, shared, "a")
    b = _step({"rate": 2, "per": "200ms", "key": "erp"}, shared, "b")
    started = time.monotonic()
    for step in (a, b, a, b):
        await step.process(Message({}))
    assert time.monotonic() - started >= 0.17


def test_a_shared_key_with_another_rate_is_a_config_error() -> None:
    shared = SharedResources()
    _step({"rate": 2, "key": "erp"}, shared)
    with pytest.raises(ConfigError, match="already limited"):
        _step({"rate": 3, "key": "erp"}, shared)
