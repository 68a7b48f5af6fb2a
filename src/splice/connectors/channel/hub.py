"""The channel hub: in-process publish/subscribe between the flows of one engine.

A *topic* is a channel name (``orders.created``). A *group* is a durable subscription to a
topic or a pattern of topics (``orders.*``: ``*`` is one dot-separated word, a final ``>``
one or more): every group receives every message published to a matching topic, and the
subscribers of one group compete for its messages. Each group holds a bounded buffer; a
publisher waits for room (backpressure), then until every group has *settled* its copy.

A group is remembered once subscribed, even when it has no subscriber left: while a flow
reloads (old source closed, new one opening), messages wait in its buffer instead of
failing. :meth:`ChannelHub.forget` drops a group for good (a flow that was removed).
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from dataclasses import dataclass

from splice.errors import TransientError
from splice.message import Message

__all__ = ["ChannelHub", "Envelope", "Group", "topic_matches"]


@dataclass(eq=False)
class Envelope:
    """One group's copy of a published message, and how that group settled it."""

    message: Message
    outcome: asyncio.Future[BaseException | None]

    def settle(self, error: BaseException | None) -> None:
        if not self.outcome.done():  # the publisher may have given up (timeout)
            self.outcome.set_result(error)


class Group:
    """A durable subscription: a bounded buffer its subscribers compete for."""

    def __init__(self, pattern: str, name: str, capacity: int) -> None:
        self.pattern = pattern
        self.name = name
        self.capacity = capacity
        self.subscribers = 0
        self.forgotten = False
        self._items: deque[Envelope] = deque()
        self._ready = asyncio.Event()
        self._space = asyncio.Event()

    @property
    def size(self) -> int:
        return len(self._items)

    async def put(self, envelope: Envelope) -> None:
        """Queue a copy, waiting while the buffer is full."""
        while len(self._items) >= self.capacity and not self.forgotten:
            self._space.clear()
            await self._space.wait()
        if self.forgotten:
            raise TransientError(f"group '{self.name}' left channel '{self.pattern}'")
        self._items.append(envelope)
        self._ready.set()

    def take(self) -> Envelope | None:
        """The next copy whose publisher still waits, or None when there is none."""
        while self._items:
            envelope = self._items.popleft()
            self._space.set()
            if not envelope.outcome.done():
                return envelope
        self._ready.clear()
        return None

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def drop_all(self, reason: BaseException) -> None:
        self.forgotten = True
        self._space.set()
        while (envelope := self.take()) is not None:
            envelope.settle(reason)


class ChannelHub:
    """Engine-wide: ``context.shared.get("channels", ChannelHub)``."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], Group] = {}

    def subscribe(self, pattern: str, group: str, capacity: int = 64) -> Group:
        key = (pattern, group)
        if key not in self._groups:
            self._groups[key] = Group(pattern, group, capacity)
        subscription = self._groups[key]
        subscription.capacity = capacity
        subscription.subscribers += 1
        return subscription

    def unsubscribe(self, group: Group) -> None:
        """One subscriber fewer; the group and its buffered messages are kept."""
        group.subscribers = max(0, group.subscribers - 1)

    def forget(self, pattern: str, group: str) -> None:
        """Drop a group for good; publishers waiting on it get a TransientError."""
        dropped = self._groups.pop((pattern, group), None)
        if dropped is not None:
            dropped.drop_all(TransientError(f"group '{group}' left channel '{pattern}'"))

    def groups(self, topic: str) -> list[Group]:
        return [group for group in self._groups.values() if topic_matches(group.pattern, topic)]

    async def publish(self, topic: str, message: Message) -> list[tuple[Group, BaseException]]:
        """Hand a copy to every group; return the groups that failed it, with their error."""
        groups = self.groups(topic)
        if not groups:
            raise TransientError(f"no subscriber on channel '{topic}'", code="no-subscriber")
        loop = asyncio.get_running_loop()
        envelopes = [(g, Envelope(_copy(message, topic), loop.create_future())) for g in groups]
        try:
            for group, envelope in envelopes:
                await group.put(envelope)
            await asyncio.wait([envelope.outcome for _, envelope in envelopes])
        except BaseException:
            for _, envelope in envelopes:
                envelope.outcome.cancel()
            raise
        failed = [(group, envelope.outcome.result()) for group, envelope in envelopes]
        return [(group, error) for group, error in failed if error is not None]


def _copy(message: Message, topic: str) -> Message:
    body = message.body if isinstance(message.body, bytes | str) else copy.deepcopy(message.body)
    child = message.derive(body)
    child.plain = message.plain  # the same body, or a copy of it
    child.targets = None
    child.attempts = 0
    child.headers["channel.name"] = topic
    return child


def topic_matches(pattern: str, topic: str) -> bool:
    """``orders.*`` matches ``orders.created``; ``orders.>`` also ``orders.eu.created``."""
    wanted, words = pattern.split("."), topic.split(".")
    for index, part in enumerate(wanted):
        if part == ">" and index == len(wanted) - 1:
            return len(words) > index
        if index >= len(words) or (part != "*" and part != words[index]):
            return False
    return len(words) == len(wanted)
