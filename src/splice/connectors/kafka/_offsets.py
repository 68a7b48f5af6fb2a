"""Which offsets the kafka source may commit, when messages finish out of order.

Kafka remembers one number per partition for a consumer group: the committed offset, the
next message to read. With ``max_in_flight > 1`` messages of a partition finish in any
order, so the source may only commit the lowest offset that is still unsettled: every
message below it was delivered (or dead-lettered), and the ones at and above it are read
again after a restart or a rebalance. That is at-least-once, never a loss::

    received   5  6  7  8  9
    settled       6     8  9        commit 5 (5 is unsettled)
    settled    5                    commit 7
    settled          7              commit 10 (all settled: the last one + 1)

Offsets of a partition are not contiguous (compaction, transaction markers), so the
tracker keeps the offsets it handed out, in order, rather than assuming ``offset + 1``.
This module is pure bookkeeping: no I/O, no aiokafka.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["OffsetTracker", "PartitionOffsets"]

K = TypeVar("K", bound=Hashable)


class PartitionOffsets:
    """The offsets of one partition handed out and not yet committed, by one assignment.

    A partition taken away by a rebalance is ``revoked``: what is settled afterwards no
    longer counts (the new owner reads those messages again from the committed offset).
    """

    __slots__ = ("_next", "_order", "_unsettled", "committed", "revoked")

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        """Received offsets, ascending, down to the lowest unsettled one."""
        self._unsettled: set[int] = set()
        self._next: int | None = None
        self.committed: int | None = None
        """The last offset committed for this assignment (None: none yet)."""
        self.revoked = False

    def received(self, offset: int) -> None:
        """``offset`` was handed to the flow; offsets of a partition only go forward."""
        if self._next is None:  # where this assignment started reading: already committed
            self.committed = offset
        elif offset < self._next:
            raise ValueError(f"offset {offset} received after {self._next - 1}")
        self._order.append(offset)
        self._unsettled.add(offset)
        self._next = offset + 1

    def settled(self, offset: int) -> bool:
        """The flow is done with ``offset``; False when it was not unsettled (or revoked)."""
        if self.revoked or offset not in self._unsettled:
            return False
        self._unsettled.discard(offset)
        order = self._order
        while order and order[0] not in self._unsettled:
            order.popleft()
        return True

    def follows(self, offset: int) -> bool:
        """Whether ``offset`` may come next (False: the partition was read again from before)."""
        return self._next is None or offset >= self._next

    @property
    def position(self) -> int | None:
        """The offset to commit: every offset received below it is settled."""
        if self._order:
            return self._order[0]
        return self._next

    @property
    def in_flight(self) -> int:
        return len(self._unsettled)

    def to_commit(self) -> int | None:
        """The position, when it moved past what was committed; else None."""
        position = self.position
        if self.revoked or position is None or position == self.committed:
            return None
        return position


class OffsetTracker(Generic[K]):
    """One :class:`PartitionOffsets` per assigned partition (``K``: its topic-partition)."""

    def __init__(self) -> None:
        self._partitions: dict[K, PartitionOffsets] = {}

    def partition(self, key: K) -> PartitionOffsets:
        """The current assignment's offsets of ``key`` (a new one after a revocation)."""
        offsets = self._partitions.get(key)
        if offsets is None:
            offsets = self._partitions[key] = PartitionOffsets()
        return offsets

    def restart(self, key: K) -> PartitionOffsets:
        """``key`` is read again from an earlier offset (a reset, a seek): a new reading.

        What the old reading had in flight no longer counts; those messages come again.
        """
        self.revoke([key])
        return self.partition(key)

    def revoke(self, keys: Iterable[K]) -> None:
        """These partitions were taken away: forget them; late settlements do not count."""
        for key in keys:
            offsets = self._partitions.pop(key, None)
            if offsets is not None:
                offsets.revoked = True

    def in_flight(self, keys: Iterable[K] | None = None) -> int:
        """Messages handed out and not settled, of ``keys`` (default: every partition)."""
        chosen = self._partitions if keys is None else keys
        return sum(self._partitions[k].in_flight for k in chosen if k in self._partitions)

    def to_commit(self, keys: Iterable[K] | None = None) -> dict[K, int]:
        """The offsets worth committing now, by partition (only those that moved)."""
        chosen = list(self._partitions) if keys is None else keys
        commits = {}
        for key in chosen:
            offsets = self._partitions.get(key)
            position = offsets.to_commit() if offsets is not None else None
            if position is not None:
                commits[key] = position
        return commits

    def committed(self, commits: dict[K, int]) -> None:
        """The broker accepted ``commits`` (as returned by :meth:`to_commit`)."""
        for key, position in commits.items():
            offsets = self._partitions.get(key)
            if offsets is None:
                continue
            if offsets.committed is None or offsets.committed < position:
                offsets.committed = position
