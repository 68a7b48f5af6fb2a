"""``kafka`` source: a consumer group member that commits only what the flow delivered.

Offsets are never committed automatically (``enable_auto_commit`` is off). A message
counts as done once every sink confirmed it or it was dead-lettered; the source commits,
every ``commit_interval`` and when it stops or loses partitions to a rebalance, the lowest
offset of each partition below which every message is done (see ``_offsets.py``: with
``max_in_flight > 1`` messages finish out of order). How each outcome settles::

    ack (delivered, or dead-lettered)       done: the commit may move past it
    nack(MessageError), not dead-lettered   done, with a warning naming topic/partition/offset
                                            (the record stays in the topic; never retried)
    nack(anything else)                     redelivered by this source after nak_delay
    the process dies / partition revoked    read again from the last commit (at-least-once)

On a rebalance the source waits up to ``settle_timeout`` for the messages of the revoked
partitions, commits what is done and forgets the rest: their new owner reads them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.spec import ComponentSpec
from splice.connectors.kafka._connection import (
    KafkaConnectionConfig,
    aiokafka,
    client_options,
    describe,
    start,
    translate,
)
from splice.connectors.kafka._offsets import OffsetTracker, PartitionOffsets
from splice.connectors.kafka._records import message_from
from splice.errors import MessageError, NotConnected, is_transient
from splice.message import new_id
from splice.types import Duration

if TYPE_CHECKING:
    from aiokafka import (  # type: ignore[import-untyped, unused-ignore]
        AIOKafkaConsumer,
        ConsumerRecord,
        TopicPartition,
    )

__all__ = ["SPEC", "KafkaSource", "KafkaSourceConfig"]

log = logging.getLogger("splice.connectors.kafka")

_POLL_MS = 500


class KafkaSourceConfig(KafkaConnectionConfig):
    topics: list[str] | None = Field(None, description="Topics to consume.")
    topic_pattern: str | None = Field(
        None, description="Regular expression of topics to consume (instead of `topics`)."
    )
    group: str | None = Field(
        None, description="Consumer group; members share the partitions (default: `splice-<flow>`)."
    )
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="Where a group with no committed offset starts."
    )
    isolation_level: Literal["read_committed", "read_uncommitted"] = Field(
        "read_committed", description="Skip records of aborted transactions (the default)."
    )
    batch: int = Field(100, ge=1, le=10000, description="Most records fetched at once.")
    commit_interval: Duration = Field(
        1.0, gt=0, description="How often the offsets of finished messages are committed."
    )
    nak_delay: Duration = Field(1.0, ge=0, description="Redelivery delay after a failure.")
    settle_timeout: Duration = Field(
        30.0, ge=0, description="At stop or rebalance, how long to wait for messages in flight."
    )
    session_timeout: Duration = Field(
        10.0, gt=0, description="A member silent this long leaves the group."
    )
    heartbeat_interval: Duration = Field(3.0, gt=0, description="Heartbeats to the coordinator.")
    max_poll_interval: Duration = Field(
        300.0, gt=0, description="A member that does not fetch this long leaves the group."
    )

    @field_validator("topics", mode="before")
    @classmethod
    def _one_topic(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("topic_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"topic_pattern is not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _what_to_consume(self) -> KafkaSourceConfig:
        if (self.topics is None) == (self.topic_pattern is None):
            raise ValueError("give either topics or topic_pattern")
        if self.topics is not None and not self.topics:
            raise ValueError("topics is empty")
        if self.heartbeat_interval >= self.session_timeout:
            raise ValueError("heartbeat_interval must be shorter than session_timeout")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="kafka",
    summary="Consume Kafka topics as a consumer group member; commit once the sinks confirmed.",
    config=KafkaSourceConfig,
    example="kafka: {brokers: [kafka-1:9092], topics: [orders], group: erp-loader}",
    factory="splice.connectors.kafka.source:KafkaSource",
    shorthand="topics",
    description=(
        "Offsets are committed only up to the first message not yet delivered or "
        "dead-lettered (out-of-order completion is tracked per partition), periodically, "
        "at stop and when a rebalance takes partitions away: at-least-once. Kafka headers "
        "become message headers, plus `kafka.topic`, `kafka.partition`, `kafka.offset`, "
        "`kafka.key` and `kafka.timestamp`. See docs/guides/kafka.md."
    ),
    scales_out=True,
)


class KafkaSource(Source):
    def __init__(self, config: KafkaSourceConfig, context: Context) -> None:
        self.config = config
        self._context = context
        self._consumer: AIOKafkaConsumer | None = None
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self._fetched: deque[ConsumerRecord] = deque()
        self._active: set[_Settlement] = set()
        """Deliveries handed to the flow and not yet settled."""
        self._redeliveries: deque[_Settlement] = deque()
        self._timers: set[asyncio.TimerHandle] = set()
        self._settled = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._committer: asyncio.Task[None] | None = None
        self._closed = False
        self.committed: dict[tuple[str, int], int] = {}
        """The last offset this source committed, by ``(topic, partition)``."""

    @property
    def group(self) -> str:
        return self.config.group or f"splice-{self._context.flow}"

    @property
    def what(self) -> str:
        topics = self.config.topic_pattern or ",".join(self.config.topics or ())
        return f"kafka source (group '{self.group}', topics {topics})"

    async def open(self) -> None:
        if self._consumer is not None:
            return
        config = self.config
        consumer = aiokafka().AIOKafkaConsumer(
            **client_options(config, self._context),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset=config.auto_offset_reset,
            isolation_level=config.isolation_level,
            max_poll_records=config.batch,
            session_timeout_ms=int(config.session_timeout * 1000),
            heartbeat_interval_ms=int(config.heartbeat_interval * 1000),
            max_poll_interval_ms=int(config.max_poll_interval * 1000),
        )
        await start(consumer, config, self.what)
        # subscribed once started, so that open() waits for the cluster, not for the group
        # join (a rebalance may take long); getmany() joins, the listener hears the outcome
        consumer.subscribe(
            topics=config.topics or (), pattern=config.topic_pattern, listener=_listener(self)
        )
        self._closed = False
        self._consumer = consumer
        self._committer = asyncio.create_task(self._commit_periodically())

    async def close(self) -> None:
        self._closed = True
        consumer, self._consumer = self._consumer, None
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if consumer is None:
            return
        await self._wait_settled(None)
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
        await self._commit(consumer, None)
        try:
            await consumer.stop()  # leaves the group: its partitions move on at once
        except Exception as exc:
            log.warning("%s: stopping the consumer: %s", self.what, describe(exc))

    # -- deliveries ------------------------------------------------------------------------

    async def deliveries(self) -> AsyncIterator[Delivery]:
        if self._consumer is None:
            raise NotConnected(f"{self.what} is not open")
        while not self._closed:
            settlement = self._next()
            if settlement is not None:
                self._active.add(settlement)
                yield settlement.delivery()
            elif not (self._redeliveries or self._fetched):
                await self._fetch()

    def _next(self) -> _Settlement | None:
        """A message to redeliver, else the next fetched record (None: none to hand out)."""
        if self._redeliveries:
            settlement = self._redeliveries.popleft()
            return None if settlement.offsets.revoked else settlement
        if self._fetched:
            return self._track(self._fetched.popleft())
        return None

    def _track(self, record: ConsumerRecord) -> _Settlement:
        tp = _tp(record)
        offsets = self._offsets.partition(tp)
        if not offsets.follows(record.offset):
            log.info("%s: %s read again from offset %d", self.what, _names([tp]), record.offset)
            offsets = self._offsets.restart(tp)
        offsets.received(record.offset)
        return _Settlement(self, record, offsets)

    async def _fetch(self) -> None:
        from aiokafka.errors import ConsumerStoppedError  # type: ignore[import-untyped, unused-ignore]

        consumer = self._consumer
        if consumer is None:
            return
        try:
            batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=self.config.batch)
        except ConsumerStoppedError:
            return
        except Exception as exc:
            error = translate(exc, f"{self.what}: fetch")
            if is_transient(error):
                log.warning("%s; fetching again", error)
                await asyncio.sleep(_POLL_MS / 1000)
                return
            raise error from exc
        for records in batches.values():
            self._fetched.extend(records)

    # -- settling --------------------------------------------------------------------------

    def settled(self, settlement: _Settlement, error: BaseException | None) -> None:
        """A delivery's outcome (see the module docstring)."""
        self._active.discard(settlement)
        self._settled.set()
        if error is not None and not isinstance(error, MessageError):
            self._redeliver(settlement)
            return
        if error is not None:
            record = settlement.record
            log.warning(
                "%s: message %s at %s/%d offset %d failed and was not dead-lettered: %s; "
                "it is skipped (it stays in the topic)",
                self.what,
                settlement.id,
                record.topic,
                record.partition,
                record.offset,
                error,
            )
        settlement.offsets.settled(settlement.record.offset)

    def _redeliver(self, settlement: _Settlement) -> None:
        if self._closed or settlement.offsets.revoked:
            return
        loop = asyncio.get_running_loop()

        def again() -> None:
            self._timers.discard(timer)
            self._redeliveries.append(settlement)

        timer = loop.call_later(self.config.nak_delay, again)
        self._timers.add(timer)

    async def _wait_settled(self, partitions: Sequence[TopicPartition] | None) -> None:
        """Wait up to ``settle_timeout`` for the messages in flight (of ``partitions``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.settle_timeout
        while self._unsettled(partitions):
            self._settled.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning(
                    "%s: %d messages unsettled; they will be read again",
                    self.what,
                    self._unsettled(partitions),
                )
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), remaining)

    def _unsettled(self, partitions: Sequence[TopicPartition] | None) -> int:
        """Deliveries in the flow now (of ``partitions``); a wait for redelivery is not."""
        if partitions is None:
            return len(self._active)
        chosen = set(partitions)
        return sum(1 for s in self._active if _tp(s.record) in chosen)

    # -- committing ------------------------------------------------------------------------

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.commit_interval)
            consumer = self._consumer
            if consumer is not None:
                await self._commit(consumer, None)

    async def _commit(
        self, consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition] | None
    ) -> None:
        """Commit the done offsets (of ``partitions``); a failure is logged, retried later."""
        from aiokafka.structs import OffsetAndMetadata  # type: ignore[import-untyped, unused-ignore]

        async with self._commit_lock:
            commits = self._offsets.to_commit(partitions)
            if not commits:
                return
            try:
                await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in commits.items()})
            except Exception as exc:
                log.warning("%s: commit failed: %s", self.what, translate(exc, "commit"))
                return
            self._offsets.committed(commits)
            self.committed.update({(tp.topic, tp.partition): o for tp, o in commits.items()})

    async def revoked(self, partitions: Sequence[TopicPartition]) -> None:
        """A rebalance takes ``partitions`` away: settle, commit, then forget them."""
        consumer = self._consumer
        revoked = set(partitions)
        self._fetched = deque(r for r in self._fetched if _tp(r) not in revoked)
        if consumer is not None and not self._closed:
            await self._wait_settled(list(partitions))
            await self._commit(consumer, list(partitions))
        self._offsets.revoke(partitions)
        self._settled.set()


def _tp(record: ConsumerRecord) -> TopicPartition:
    return aiokafka().TopicPartition(record.topic, record.partition)


class _Settlement:
    """One consumed record: its message id survives redeliveries (poison tracking)."""

    __slots__ = ("id", "offsets", "record", "source")

    def __init__(
        self,
        source: KafkaSource,
        record: ConsumerRecord,
        offsets: PartitionOffsets,
    ) -> None:
        self.source = source
        self.record = record
        self.offsets = offsets
        self.id = new_id()

    def delivery(self) -> Delivery:
        """A fresh delivery (and message) for the record, with the same message id."""
        record = self.record
        message = message_from(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            list(record.headers or ()),
            record.timestamp,
            self.id,
        )
        return Delivery(message, self._ack, self._nack)

    async def _ack(self, outputs: Sequence[Any]) -> None:
        self.source.settled(self, None)

    async def _nack(self, error: BaseException) -> None:
        self.source.settled(self, error)


def _listener(source: KafkaSource) -> Any:
    """A rebalance listener: aiokafka wants a subclass of its own, imported lazily."""
    from aiokafka import ConsumerRebalanceListener  # type: ignore[import-untyped, unused-ignore]

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
            if revoked:
                log.info("%s: partitions revoked: %s", source.what, _names(revoked))
                await source.revoked(list(revoked))

        async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
            log.info("%s: partitions assigned: %s", source.what, _names(assigned))

    return Listener()


def _names(partitions: Sequence[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(partitions)) or "none"
