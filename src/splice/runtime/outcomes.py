"""What happens to a delivery whose message failed: every outcome is defined.

======================================  ==================================================
the failure                             the outcome
======================================  ==================================================
a caller waits (synchronous HTTP)       nack: the caller gets the error and keeps the message
a crash (a bug), fewer than N times     nack: the source redelivers it
a crash, the N-th time                  quarantined: dead-lettered as ``quarantined``
any other final failure                 dead-lettered with its reason, then acked
``dead_letter: false``                  nack: the source keeps it
the dead-letter write fails             nack: the source keeps it (nothing is lost)
======================================  ==================================================

A failure is final once the runtime's retries (around each sink) gave up, or at once for a
message that is wrong (a codec, validation or mapping error).
"""

from __future__ import annotations

import logging

from splice.components.interfaces import Delivery
from splice.errors import MessageError, SpliceError
from splice.message import Message
from splice.runtime.policies import OnError, PoisonTracker
from splice.runtime.retry import attempts_of
from splice.secrets import mask
from splice.store import Store

__all__ = ["FailureHandler"]

log = logging.getLogger("splice.runtime")


class FailureHandler:
    """Settles failed deliveries of one flow version under its error policy."""

    def __init__(self, flow: str, version: str, policy: OnError, store: Store | None) -> None:
        self.flow = flow
        self.version = version
        self.policy = policy
        self.store = store
        self.poison = PoisonTracker(policy.quarantine_after)
        self.dead_lettered = 0

    async def settle(
        self, delivery: Delivery, error: Exception, original: Message | None = None
    ) -> bool:
        """Settle ``delivery``; True when the message is now in the dead-letter queue.

        ``original`` is the message as received (dead letters keep the original payload).
        """
        self._log(error)
        message_id = delivery.message.id
        if delivery.caller_waits:
            await delivery.nack(error)
            return False
        quarantined = False
        if PoisonTracker.is_crash(error):
            quarantined = self.poison.record(message_id, error)
            if not quarantined and not delivery.needs_journal:
                await delivery.nack(error)
                return False
        if not self.policy.dead_letter or self.store is None:
            await delivery.nack(error)
            return False
        if not await self._dead_letter(original or delivery.message, error, quarantined):
            await delivery.nack(error)
            return False
        self.poison.forget(message_id)
        await delivery.ack(())
        return True

    async def _dead_letter(self, message: Message, error: Exception, quarantined: bool) -> bool:
        assert self.store is not None
        try:
            await self.store.dead_letters.add(
                flow=self.flow,
                flow_version=self.version,
                step=getattr(error, "component", None) or "",
                error_class="quarantined" if quarantined else type(error).__name__,
                error_code=error.code if isinstance(error, SpliceError) else "internal",
                error_message=mask(str(error)),
                message=message,
                attempts=[dict(attempt) for attempt in attempts_of(error)],
            )
        except Exception:
            log.exception("flow '%s': the dead-letter queue refused a message", self.flow)
            return False
        self.dead_lettered += 1
        return True

    def _log(self, error: Exception) -> None:
        if isinstance(error, MessageError):
            log.warning("%s [%s]", mask(str(error)), error.code)
        elif isinstance(error, SpliceError):
            log.error("%s [%s]", mask(str(error)), error.code)
        else:
            log.error("flow '%s': %s: %s", self.flow, type(error).__name__, mask(str(error)))
