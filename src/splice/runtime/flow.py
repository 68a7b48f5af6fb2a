"""One running version of a flow: its source pumped into its pipeline.

Delivery guarantees (DESIGN.md, "How a message travels"):

- at most ``max_in_flight`` messages are in the pipeline at once; the runner pulls the next
  delivery from the source only when a slot is free, so a slow sink slows the source down
  (backpressure) instead of letting memory grow;
- a delivery is acked only after the pipeline returned, i.e. after every sink confirmed;
  any failure nacks it, so the source keeps the message;
- a message that fails for good is settled by :class:`~splice.runtime.outcomes.FailureHandler`
  (dead-lettered and acked, or nacked so that the source keeps it);
- a delivery from a source that cannot redeliver is written to the store's journal before
  the source lets go of it; journal entries left unfinished by a crash run again at start;
- ``stop()`` closes the source, lets in-flight messages finish within a deadline, and only
  then closes steps and sinks. Messages still unfinished at the deadline are nacked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from splice.components.interfaces import Delivery, Sink, Source, Step
from splice.errors import NotConnected
from splice.message import Message
from splice.runtime.outcomes import FailureHandler
from splice.runtime.pipeline import Pipeline
from splice.runtime.policies import OnError
from splice.store import Store

__all__ = ["FlowRunner"]

log = logging.getLogger("splice.runtime")


class FlowRunner:
    """Pumps one source into one pipeline with bounded concurrency."""

    def __init__(
        self,
        name: str,
        version: str,
        source: Source,
        source_path: str,
        pipeline: Pipeline,
        max_in_flight: int,
        *,
        policy: OnError | None = None,
        store: Store | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.source = source
        self.source_path = source_path
        self.pipeline = pipeline
        self.max_in_flight = max_in_flight
        self._slots = _Slots(max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        self.journal_gate: asyncio.Event | None = None
        """Set by a reload: the journal is resumed only once the gate opens (when the previous
        version of the flow stopped), or it would run again what that version has in flight."""
        self._source_closed = False
        self.store = store
        self._store_pause = 0.0
        """Seconds the source is paused after the store refused a journal write (0: running)."""
        self.failures = FailureHandler(name, version, policy or OnError(), store)
        self.counts = {"received": 0, "acked": 0, "nacked": 0, "dead_lettered": 0}

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def open_components(self) -> None:
        """Open sinks and steps (before any source starts producing)."""
        for bound_sink in self.pipeline.sinks.values():
            await bound_sink.sink.open()
        for index, step in self.pipeline.inner_steps():
            if hasattr(step, "emitter"):
                step.emitter = self._emitter(index)
        for bound_step in self.pipeline.steps:
            await bound_step.step.open()

    def _emitter(self, index: int) -> Callable[[list[Message]], Awaitable[None]]:
        """Messages a step produces on its own (an aggregate completed by a timeout)."""

        async def emit(messages: list[Message]) -> None:
            for message in messages:
                try:
                    await self.pipeline.run_from(index + 1, [message])
                except Exception as error:
                    if not await self.failures.settle(Delivery(message), error, message):
                        raise

        return emit

    async def start_source(self) -> None:
        if hasattr(self.source, "offer"):
            self.source.offer = self.offer
        await self.source.open()
        self._pump_task = asyncio.create_task(self._pump(), name=f"splice:{self.name}")

    async def _journaled(self) -> AsyncIterator[Delivery]:
        """Journal entries a previous run left unfinished: they run again first."""
        if self.store is None:
            return
        pending = await self.store.journal.pending(self.name)
        if pending:
            log.info("flow '%s': resuming %d journaled messages", self.name, len(pending))
        for entry_id, message in pending:
            yield Delivery(message, self._completer(entry_id))

    def _completer(self, entry_id: int):  # type: ignore[no-untyped-def]
        async def complete(outputs: Sequence[Message]) -> None:
            assert self.store is not None
            await self.store.journal.complete(entry_id)

        return complete

    async def _pump(self) -> None:
        gate = self.journal_gate
        if gate is None:
            await self._pump_from(self._journaled())
            await self._pump_from(self.source.deliveries())
            return
        resume = asyncio.create_task(self._journaled_after(gate))
        try:
            await self._pump_from(self.source.deliveries())
            if gate.is_set():
                await resume
        finally:
            if not resume.done():
                resume.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resume

    async def _journaled_after(self, gate: asyncio.Event) -> None:
        await gate.wait()
        await self._pump_from(self._journaled())

    async def _pump_from(self, deliveries: AsyncIterator[Delivery]) -> None:
        while True:
            if self._store_pause:
                await asyncio.sleep(self._store_pause)
            await self._slots.acquire()
            try:
                delivery = await anext(deliveries)
            except StopAsyncIteration:
                self._slots.release()
                return
            except Exception:
                self._slots.release()
                log.exception("flow '%s': source failed", self.name)
                return
            self.counts["received"] += 1
            task = asyncio.create_task(self._handle(delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def offer(self, delivery: Delivery) -> bool:
        """Process ``delivery`` at once in the caller's task, if the flow can: its pipeline
        never waits (:attr:`Pipeline.synchronous`), the message needs no journal, the store
        is not paused and a place is free. False, with nothing done, otherwise: the source
        then queues it for the pump as usual.

        This spares a request-reply flow the pump's hop and a task per message. A failure is
        settled in a task of its own (dead-lettering may wait for the store), so the caller
        never waits longer than the pipeline ran.
        """
        slots = self._slots
        if (
            slots.free <= 0
            or delivery.needs_journal
            or self._store_pause
            or not self.pipeline.synchronous
        ):
            return False
        slots.free -= 1
        self.counts["received"] += 1
        message = delivery.message
        message.record(self.name, self.source_path, "received")
        original = None if delivery.caller_waits else _as_received(message)
        try:
            outputs = self.pipeline.run_sync(message)
        except Exception as error:
            task = asyncio.create_task(self._fail_released(delivery, error, original))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            return True
        try:
            self.counts["acked"] += 1
            await self._settle(delivery.ack(outputs), None)
        finally:
            slots.release()
        return True

    async def _fail_released(
        self, delivery: Delivery, error: Exception, original: Message | None
    ) -> None:
        try:
            await self._fail(delivery, error, None, original)
        finally:
            self._slots.release()

    async def _handle(self, delivery: Delivery) -> None:
        message = delivery.message
        message.record(self.name, self.source_path, "received")
        # a caller that waits keeps the message itself: no copy for the dead-letter queue
        original = None if delivery.caller_waits else _as_received(message)
        try:
            entry = await self._journal(delivery) if delivery.needs_journal else None
        except Exception as error:
            self._slots.release()
            self._pause_for_store(error)
            await self._settle_nack(delivery, error)
            return
        try:
            outputs = await self.pipeline.run(message)
        except asyncio.CancelledError:
            await self._settle_nack(delivery, TimeoutError("shutdown deadline reached"))
            raise
        except Exception as error:
            await self._fail(delivery, error, entry, original)
        else:
            self.counts["acked"] += 1
            await self._settle(self._delivered(delivery, outputs), entry)
        finally:
            self._slots.release()

    def _pause_for_store(self, error: Exception) -> None:
        """The store is down: stop pulling from the source, longer each time, until it is back."""
        if isinstance(error, NotConnected):
            self._store_pause = min(max(self._store_pause * 2, 0.1), 5.0)
            log.warning(
                "flow '%s': state store unavailable, source paused %.1f s: %s",
                self.name,
                self._store_pause,
                error,
            )

    async def _delivered(self, delivery: Delivery, outputs: list[Message]) -> None:
        if self.pipeline.hooks["confirm"]:
            await self.pipeline.confirm(delivery.message)
        await delivery.ack(outputs)

    async def _journal(self, delivery: Delivery) -> int | None:
        """Make the message durable before a source that cannot redeliver lets go of it."""
        if not delivery.needs_journal:
            return None
        entry = None
        if self.store is not None:
            entry = await self.store.journal.append(self.name, delivery.message)
            if self._store_pause:
                log.info("flow '%s': state store back, source resumed", self.name)
                self._store_pause = 0.0
        await delivery.accept()
        return entry

    async def _fail(
        self, delivery: Delivery, error: Exception, entry: int | None, original: Message | None
    ) -> None:
        try:
            await self.pipeline.release(delivery.message)
        except Exception:
            log.exception("flow '%s': releasing idempotency keys failed", self.name)
        try:
            dead_lettered = await self.failures.settle(delivery, error, original)
        except Exception:
            log.exception("flow '%s': settling a failed delivery failed", self.name)
            return
        self.counts["dead_lettered" if dead_lettered else "nacked"] += 1
        if dead_lettered and entry is not None and self.store is not None:
            await self._settle(self.store.journal.complete(entry), None)

    async def _settle(self, acknowledgement: Awaitable[None], entry: int | None) -> None:
        try:
            await acknowledgement
            if entry is not None and self.store is not None:
                await self.store.journal.complete(entry)
        except Exception:
            log.exception("flow '%s': acknowledging a delivery failed", self.name)

    async def _settle_nack(self, delivery: Delivery, error: BaseException) -> None:
        self.counts["nacked"] += 1
        try:
            await delivery.nack(error)
        except Exception:
            log.exception("flow '%s': settling a failed delivery failed", self.name)

    async def close_source(self) -> None:
        if self._source_closed:
            return
        self._source_closed = True
        await self.source.close()

    async def stop(self, deadline: float) -> None:
        """Close the source, drain in-flight messages within ``deadline`` seconds, close all."""
        await self.close_source()
        if self._pump_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._pump_task), deadline)
            if not self._pump_task.done():
                self._pump_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pump_task
        await self._drain(deadline)
        await self._close_components()

    async def _drain(self, deadline: float) -> None:
        pending = set(self._in_flight)
        if not pending:
            return
        _, unfinished = await asyncio.wait(pending, timeout=deadline)
        if unfinished:
            log.warning(
                "flow '%s': %d messages unfinished at the shutdown deadline; nacked",
                self.name,
                len(unfinished),
            )
            for task in unfinished:
                task.cancel()
            await asyncio.wait(unfinished)

    async def _close_components(self) -> None:
        components: list[Step | Sink] = [bound.step for bound in self.pipeline.steps]
        components += [bound.sink for bound in self.pipeline.sinks.values()]
        for component in components:
            try:
                await component.close()
            except Exception:
                log.exception("flow '%s': closing %s failed", self.name, type(component).__name__)


class _Slots:
    """Free places for messages in flight, awaited by one task (the pump).

    An :class:`asyncio.Semaphore` does the same for any number of waiters, and its
    ``acquire`` scans them every time (4% of a small synchronous request).
    """

    __slots__ = ("_waiter", "free")

    def __init__(self, count: int) -> None:
        self.free = count
        self._waiter: asyncio.Future[None] | None = None

    async def acquire(self) -> None:
        while self.free <= 0:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self.free -= 1

    def release(self) -> None:
        self.free += 1
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _as_received(message: Message) -> Message:
    """The message as the source handed it over (steps may change the body in place)."""
    return Message(
        body=message.body,
        headers=dict(message.headers),
        content_type=message.content_type,
        id=message.id,
        correlation_id=message.correlation_id,
        lineage=message.lineage,
        attempts=message.attempts,
    )
