"""``dedupe``: the idempotent receiver. Pass the first message of each key; drop repeats.

Each key is claimed in the state store (``idempotency.claim(scope, key, ttl)``), atomically
across tasks and worker processes; a message whose key is already claimed is dropped,
acked and counted (:meth:`DedupeStep.stats`). The scope defaults to the flow name and the
step path, so two flows never see each other's keys unless they name the same ``scope``.

Runtime contract — a claim is *pending* (owned by the message id) until the runtime calls
``await step.confirm(message)`` once every sink confirmed; a redelivery of the same message
(resumed from the journal after a crash between the claim and the delivery) may take a
pending claim over, any other message with the key is a duplicate. A claim must not
outlive a failed delivery either: the runtime calls ``await step.release(message)`` when
a message that passed this step was not delivered (a sink failed, or a later step raised).
The claimed key travels in the header ``splice.dedupe.<scope>``.
"""

from __future__ import annotations

import logging

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message
from splice.steps.aggregate import needs_store
from splice.steps.filter import decoded
from splice.types import Duration

__all__ = ["SPEC", "DedupeConfig", "DedupeStep"]

log = logging.getLogger("splice.steps.dedupe")


class DedupeConfig(ComponentConfig):
    key: str = Field(description="JSONata on the body giving the idempotency key.")
    ttl: Duration = Field(
        7 * 86400.0, gt=0, description="How long a key is remembered (e.g. 7d, 12h)."
    )
    scope: str | None = Field(
        None, description="Share keys with other steps naming the same scope (default: private)."
    )


SPEC = ComponentSpec(
    kind="step",
    name="dedupe",
    summary="Idempotent receiver: drop messages whose key was already seen (state store).",
    config=DedupeConfig,
    example="dedupe: {key: orderId, ttl: 7d}",
    factory="splice.steps.dedupe:DedupeStep",
    shorthand="key",
    description=(
        "Needs the state store. Duplicates are acked and counted. A key whose message then "
        "fails to be delivered is released, so that its redelivery passes."
    ),
)


class DedupeStep(Step):
    def __init__(self, config: DedupeConfig, context: Context) -> None:
        self._context = context
        self._key = compile_mapping(config.key)
        self._ttl = config.ttl
        self.scope = config.scope or f"{context.flow}/{context.component or 'dedupe'}"
        self._header = f"splice.dedupe.{self.scope}"
        self.passed = 0
        self.duplicates = 0

    async def open(self) -> None:
        needs_store(self._context, "dedupe")

    async def process(self, message: Message) -> list[Message]:
        store = needs_store(self._context, "dedupe")
        key = self._message_key(message)
        if not await store.idempotency.claim(self.scope, key, self._ttl, owner=message.id):
            self.duplicates += 1
            log.debug("%s: dropped duplicate %s (key %r)", self.scope, message.id, key)
            return []
        self.passed += 1
        message.headers[self._header] = key
        return [message]

    async def release(self, message: Message) -> None:
        """Forget the key this step claimed for ``message`` (its delivery failed)."""
        key = message.headers.pop(self._header, None)
        if key is not None:
            await needs_store(self._context, "dedupe").idempotency.release(self.scope, key)

    async def confirm(self, message: Message) -> None:
        """The message was delivered: its key is taken for good (no longer pending)."""
        key = message.headers.get(self._header)
        if key is not None:
            store = needs_store(self._context, "dedupe")
            await store.idempotency.confirm(self.scope, key, message.id)

    def stats(self) -> dict[str, int]:
        """Messages passed and duplicates dropped since the step was built."""
        return {"passed": self.passed, "duplicates": self.duplicates}

    def _message_key(self, message: Message) -> str:
        value = self._key.evaluate(
            decoded(message, "dedupe"), headers=message.headers, plain=message.plain
        )
        if value is UNDEFINED or value is None or isinstance(value, dict | list):
            raise MessageError("the idempotency key has no value", code="dedupe-no-key")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
