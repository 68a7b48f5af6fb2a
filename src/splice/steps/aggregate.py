"""``aggregate``: the aggregator. Collect messages by key; emit one when the group completes.

A group is the messages whose ``key`` (JSONata on the body) or ``header`` has the same
value. It completes when it holds ``size`` messages, when ``when`` (a predicate over the
collected bodies, bound as ``$messages``) holds, or ``timeout`` after its first message.
The completed message's body is the list of bodies (or ``combine``, JSONata over
``$messages``); its correlation id is the group key; headers ``aggregate.key``,
``aggregate.size`` and ``aggregate.completed_by`` (``size``, ``when`` or ``timeout``) say
what happened; the other headers are those of the group's first message.

Durability: every message is written to the state store (``context.store.aggregations``,
scoped by flow name and step path) before :meth:`AggregateStep.process` returns, so the
source delivery of a message that joined a group is acked: it is safe in the store. A
completed group leaves the store only after its aggregate was delivered (or dead-lettered)
— whatever completed it: the aggregate goes through the ``emitter`` (below), and the
completing message's own delivery ends at this step. On :meth:`open` the open groups are
reloaded, their timeouts re-armed and those already complete (a crash before delivery)
delivered, so a restart loses nothing. A message for a group already completed is *late*:
``late: drop`` (counted), ``dead_letter`` (MessageError ``late-arrival``), ``route:<sink>``,
or ``reopen`` — it starts a new group under the same key (batching: ``key: '"all"'`` with
``size`` and ``timeout`` cuts a stream into batches).

Runtime contract — the ``emitter`` hook: the runtime sets ``step.emitter = async
callable(list[Message]) -> None`` before ``open()``; the step calls it with the aggregate,
and it must return only once the messages passed the rest of the flow (the steps after this
one, then the sinks) or were dead-lettered, raising otherwise. Only then are the group's
messages deleted from the store; when it raises the group stays and is tried again
(``timeout`` later, or 5 s). Without an emitter (a flow test's harness), a group completed
by ``size`` or ``when`` is returned as this step's output instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import ConfigError, MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message
from splice.steps.filter import decoded, holds
from splice.steps.route import known_sinks
from splice.types import Duration

__all__ = ["SPEC", "AggregateConfig", "AggregateStep", "Emitter", "needs_store"]

log = logging.getLogger("splice.steps.aggregate")
RETRY_DELAY = 5.0
"""Seconds before delivering a completed group again, when the flow has no ``timeout``."""
CLOSE_GRACE = 10.0
"""Seconds :meth:`AggregateStep.close` lets a delivery under way finish (else it is cut off,
the group stays in the store and is delivered again at the next start)."""

Emitter = Callable[[list[Message]], Awaitable[None]]


class AggregateConfig(ComponentConfig):
    key: str | None = Field(None, description="JSONata on the body giving the group key.")
    header: str | None = Field(None, description="Header holding the group key (instead of key).")
    size: int | None = Field(None, ge=1, description="Complete when the group holds this many.")
    timeout: Duration | None = Field(
        None, gt=0, description="Complete this long after the group's first message (e.g. 5m)."
    )
    when: str | None = Field(
        None, description="Complete when this JSONata predicate over `$messages` holds."
    )
    combine: str | None = Field(
        None, description="JSONata over `$messages` (the bodies) giving the aggregate body."
    )
    late: str = Field(
        "dead_letter",
        description=(
            "A message for a completed group: `drop`, `dead_letter`, `route:<sink>`, or "
            "`reopen` (it starts a new group with the same key: batching)."
        ),
    )

    @field_validator("late")
    @classmethod
    def _late(cls, value: str, info: ValidationInfo) -> str:
        if value in ("drop", "dead_letter", "reopen"):
            return value
        if value.startswith("route:") and value[6:]:
            known_sinks([value[6:]], info)
            return value
        raise ValueError("late is 'drop', 'dead_letter', 'reopen' or 'route:<sink>'")

    @model_validator(mode="after")
    def _complete_somehow(self) -> AggregateConfig:
        if (self.key is None) == (self.header is None):
            raise ValueError("give exactly one of 'key' and 'header'")
        if self.size is None and self.timeout is None and self.when is None:
            raise ValueError("give at least one completion: 'size', 'timeout' or 'when'")
        return self


SPEC = ComponentSpec(
    kind="step",
    name="aggregate",
    summary="Aggregator: collect messages by key in the store; emit one per completed group.",
    config=AggregateConfig,
    example="aggregate: {key: orderId, size: 3, timeout: 5m}",
    factory="splice.steps.aggregate:AggregateStep",
    description=(
        "Needs the state store. Messages that join a group are acked once stored; a group "
        "leaves the store only after its aggregate was delivered. The aggregate body is the "
        "list of bodies, or `combine` over `$messages`. A restart reloads open groups, "
        "re-arms their timeouts and delivers those already complete. `late: reopen` makes "
        "batches: a completed key starts a new group."
    ),
)


def needs_store(context: Context, step: str) -> Any:
    """The engine's store; ConfigError naming the flow when there is none."""
    if context.store is None:
        where = f"{context.flow}: {context.component or step}"
        raise ConfigError.at(where, 1, 1, f"{step} needs the state store (`store:` in splice.yaml)")
    return context.store


class AggregateStep(Step):
    emitter: Emitter | None = None
    """Set by the runtime: delivers an aggregate completed by a timeout (module docstring)."""

    def __init__(self, config: AggregateConfig, context: Context) -> None:
        self._config = config
        self._context = context
        self._scope = f"{context.flow}/{context.component or 'aggregate'}"
        self._key = compile_mapping(config.key) if config.key is not None else None
        self._when = compile_mapping(config.when) if config.when is not None else None
        self._combine = compile_mapping(config.combine) if config.combine is not None else None
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._delivering: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self.late = 0
        self.completed = 0

    async def open(self) -> None:
        store = needs_store(self._context, "aggregate")
        now = datetime.now(UTC)
        for group in await store.aggregations.open_groups(self._scope):
            completed_by = await self._completion(store, group.key, group.message_count)
            if completed_by is not None:  # complete before a crash, never delivered
                self._arm(group.key, 0.0, completed_by)
            elif self._config.timeout is not None:
                elapsed = (now - _aware(group.first_at)).total_seconds()
                self._arm(group.key, max(0.0, self._config.timeout - elapsed))

    async def process(self, message: Message) -> list[Message]:
        store = needs_store(self._context, "aggregate")
        key = self._group_key(message)
        async with self._lock(key):
            if self._config.late != "reopen" and await store.aggregations.is_completed(
                self._scope, key
            ):
                return self._late(message, key)
            count = await store.aggregations.add(self._scope, key, message)
            completed_by = await self._completion(store, key, count)
            if completed_by is None:
                if count == 1 and self._config.timeout is not None:
                    self._arm(key, self._config.timeout)
                return []
            if self.emitter is not None:
                # delivered by its own task, like a timeout: this message is safe in the
                # store, and the step's timeout must not cut a delivery short
                self._arm(key, 0.0, completed_by)
                return []
            self._disarm(key)
            taken = await store.aggregations.complete(self._scope, key)
        return [self._aggregate(key, taken, completed_by)] if taken else []

    async def on_timeout(self, key: str, completed_by: str = "timeout") -> None:
        """Complete ``key``'s group and hand the aggregate to :attr:`emitter`."""
        async with self._lock(key):
            await self._deliver(key, completed_by)

    async def _deliver(self, key: str, completed_by: str) -> None:
        """Emit the group's aggregate; only once delivered are its messages deleted."""
        store = self._context.store
        batching = self._config.late == "reopen" and completed_by == "size"
        limit = self._config.size if batching else None
        messages, last = await store.aggregations.snapshot(self._scope, key, limit)
        if not messages:
            return
        retry = self._config.timeout or RETRY_DELAY
        if self.emitter is None:
            log.warning("%s: group %r is complete but no emitter is set", self._scope, key)
            return self._arm(key, retry, completed_by)
        try:
            await self.emitter([self._aggregate(key, messages, completed_by)])
        except Exception:
            log.exception("%s: delivering group %r failed; retried later", self._scope, key)
            return self._arm(key, retry, completed_by)
        await store.aggregations.complete(self._scope, key, through=last)
        await self._rearm_rest(store, key)

    async def _rearm_rest(self, store: Any, key: str) -> None:
        """Messages beyond a full batch, or added by another worker meanwhile, stay: next group."""
        rest, _ = await store.aggregations.snapshot(self._scope, key)
        if not rest:
            return
        completed_by = await self._completion(store, key, len(rest))
        if completed_by is not None:
            self._arm(key, 0.0, completed_by)
        elif self._config.timeout is not None:
            self._arm(key, self._config.timeout)

    async def close(self) -> None:
        """Cancel the waiting timers; let a delivery under way finish (``CLOSE_GRACE``), so
        that a group whose aggregate the sinks confirmed is also taken out of the store."""
        timers, self._timers = list(self._timers.values()), {}
        delivering = [timer for timer in timers if timer in self._delivering]
        for timer in timers:
            if timer not in self._delivering:
                timer.cancel()
        if delivering:
            await asyncio.wait(delivering, timeout=CLOSE_GRACE)
        for timer in delivering:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    def stats(self) -> dict[str, int]:
        """Groups completed, late messages, and groups waiting for a timeout."""
        return {"completed": self.completed, "late": self.late, "timers": len(self._timers)}

    def _group_key(self, message: Message) -> str:
        if self._config.header is not None:
            value: Any = message.headers.get(self._config.header, UNDEFINED)
        else:
            assert self._key is not None
            value = self._key.evaluate(
                decoded(message, "aggregate"), headers=message.headers, plain=message.plain
            )
        if value is UNDEFINED or value is None or isinstance(value, dict | list):
            raise MessageError("the aggregation key has no value", code="aggregate-no-key")
        return str(value).lower() if isinstance(value, bool) else str(value)

    async def _completion(self, store: Any, key: str, count: int) -> str | None:
        if self._config.size is not None and count >= self._config.size:
            return "size"
        if self._when is not None:
            bodies = [m.body for m in await store.aggregations.get(self._scope, key)]
            if holds(self._when.evaluate(bodies, bindings={"messages": bodies})):
                return "when"
        return None

    def _aggregate(self, key: str, messages: list[Message], completed_by: str) -> Message:
        bodies = [message.body for message in messages]
        body = bodies
        if self._combine is not None:
            body = self._combine.evaluate(bodies, bindings={"messages": bodies})
        first = messages[0]
        headers = dict(first.headers) | {"aggregate.key": key, "aggregate.size": str(len(bodies))}
        headers["aggregate.completed_by"] = completed_by
        self.completed += 1
        return Message(body, headers, correlation_id=key, lineage=list(first.lineage))

    def _late(self, message: Message, key: str) -> list[Message]:
        self.late += 1
        if self._config.late == "drop":
            log.debug("%s: dropped late message %s for group %r", self._scope, message.id, key)
            return []
        if self._config.late == "dead_letter":
            raise MessageError(f"group '{key}' is already completed", code="late-arrival")
        message.targets = (self._config.late.removeprefix("route:"),)
        return [message]

    def _arm(self, key: str, delay: float, completed_by: str = "timeout") -> None:
        self._disarm(key)
        self._timers[key] = asyncio.create_task(self._fire(key, delay, completed_by))

    def _disarm(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _fire(self, key: str, delay: float, completed_by: str) -> None:
        await asyncio.sleep(delay)
        task = asyncio.current_task()
        assert task is not None
        self._delivering.add(task)
        try:
            await self.on_timeout(key, completed_by)
        finally:
            self._delivering.discard(task)
            if self._timers.get(key) is asyncio.current_task():
                del self._timers[key]

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
