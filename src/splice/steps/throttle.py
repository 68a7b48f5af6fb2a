"""``throttle``: at most ``rate`` messages per ``per``, waiting (never dropping) beyond that.

A token bucket holding up to ``rate`` tokens, refilled at ``rate / per`` tokens a second;
each message takes one, and waits for it when the bucket is empty, which holds the flow
back (backpressure) until the rate allows. Buckets are engine-wide
(``context.shared.get("throttles", ...)``) and found by ``key``: by default each step has its
own; steps of any flows that name the same ``key`` (e.g. the name of the system they all
call) share one limit. Steps sharing a key must declare the same rate.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import ConfigError
from splice.message import Message
from splice.types import Duration

__all__ = ["SPEC", "ThrottleConfig", "ThrottleStep", "TokenBucket"]


class ThrottleConfig(ComponentConfig):
    rate: int = Field(ge=1, description="How many messages may pass per period.")
    per: Duration = Field(1.0, gt=0, description="The period (e.g. 1s, 1m).")
    key: str | None = Field(
        None, description="Share the limit with every throttle naming this key (e.g. a system)."
    )


SPEC = ComponentSpec(
    kind="step",
    name="throttle",
    summary="Let at most `rate` messages per `per` pass; the others wait (backpressure).",
    config=ThrottleConfig,
    example="throttle: {rate: 10, per: 1s, key: erp}",
    factory="splice.steps.throttle:ThrottleStep",
    shorthand="rate",
    description=(
        "Messages are never dropped: beyond the rate they wait for their turn, in arrival "
        "order. Throttles with the same `key` share one limit across flows."
    ),
)


class TokenBucket:
    """``rate`` tokens per ``per`` seconds, at most ``rate`` at once; fair (FIFO) waiting."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._tokens = float(rate)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Take one token, waiting for it; returns the seconds waited."""
        started = time.monotonic()
        async with self._lock:
            self._refill()
            while self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) * self.per / self.rate)
                self._refill()
            self._tokens -= 1
        return time.monotonic() - started

    def _refill(self) -> None:
        now = time.monotonic()
        earned = (now - self._stamp) * self.rate / self.per
        self._tokens = min(float(self.rate), self._tokens + earned)
        self._stamp = now


class ThrottleStep(Step):
    def __init__(self, config: ThrottleConfig, context: Context) -> None:
        key = config.key or f"{context.flow}/{context.component or 'throttle'}"
        buckets: dict[str, TokenBucket] = context.shared.get("throttles", dict)
        bucket = buckets.setdefault(key, TokenBucket(config.rate, config.per))
        if (bucket.rate, bucket.per) != (config.rate, config.per):
            raise ConfigError.at(
                f"{context.flow}: {context.component or 'throttle'}",
                1,
                1,
                f"throttle key '{key}' is already limited to {bucket.rate} per {bucket.per}s",
            )
        self._bucket = bucket
        self.waited = 0.0
        self.passed = 0

    async def process(self, message: Message) -> list[Message]:
        self.waited += await self._bucket.acquire()
        self.passed += 1
        return [message]

    def stats(self) -> dict[str, float]:
        """Messages passed and the total seconds they waited."""
        return {"passed": self.passed, "waited": self.waited}
