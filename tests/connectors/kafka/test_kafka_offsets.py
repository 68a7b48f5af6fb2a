"""The kafka source's commit bookkeeping: what may be committed when messages finish in any order.

The invariant: the offset committed for a partition never passes a message the flow has not
finished, and moves as far as every finished message allows. Checked on offsets with gaps
(compaction, transaction markers) settled in random orders, with revocations.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splice.connectors.kafka._offsets import OffsetTracker, PartitionOffsets


@st.composite
def offsets_and_order(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Ascending offsets with gaps, and a permutation in which they are settled."""
    start = draw(st.integers(0, 1_000_000))
    gaps = draw(st.lists(st.integers(1, 5), min_size=1, max_size=60))
    offsets = [start]
    for gap in gaps[1:]:
        offsets.append(offsets[-1] + gap)
    order = draw(st.permutations(offsets))
    return offsets, list(order)


def expected_position(offsets: list[int], settled: set[int]) -> int:
    """The lowest unsettled offset, or the last one + 1 when all are settled."""
    for offset in offsets:
        if offset not in settled:
            return offset
    return offsets[-1] + 1


@settings(max_examples=300)
@given(offsets_and_order())
def test_the_position_is_the_lowest_unsettled_offset(case: tuple[list[int], list[int]]) -> None:
    offsets, order = case
    partition = PartitionOffsets()
    for offset in offsets:
        partition.received(offset)
    settled: set[int] = set()
    previous = partition.position
    assert previous == offsets[0]
    for offset in order:
        assert partition.settled(offset)
        settled.add(offset)
        position = partition.position
        assert position == expected_position(offsets, settled)
        assert all(o in settled for o in offsets if position is not None and o < position)
        assert position is not None and previous is not None and position >= previous
        previous = position
    assert partition.position == offsets[-1] + 1
    assert partition.in_flight == 0


@settings(max_examples=200)
@given(offsets_and_order(), st.data())
def test_received_and_settled_interleaved(
    case: tuple[list[int], list[int]], data: st.DataObject
) -> None:
    """Messages arrive while others finish, as with max_in_flight > 1."""
    offsets, _ = case
    partition = PartitionOffsets()
    received: list[int] = []
    settled: set[int] = set()
    pending = list(offsets)
    while pending or len(settled) < len(received):
        unsettled = [o for o in received if o not in settled]
        if pending and (not unsettled or data.draw(st.booleans())):
            offset = pending.pop(0)
            partition.received(offset)
            received.append(offset)
        else:
            offset = data.draw(st.sampled_from(unsettled))
            assert partition.settled(offset)
            settled.add(offset)
        assert partition.position == expected_position(received, settled)
        assert partition.in_flight == len(received) - len(settled)


@settings(max_examples=200)
@given(offsets_and_order(), st.integers(0, 60))
def test_commits_only_move_forward_and_never_repeat(
    case: tuple[list[int], list[int]], commit_every: int
) -> None:
    offsets, order = case
    tracker: OffsetTracker[str] = OffsetTracker()
    partition = tracker.partition("orders/0")
    for offset in offsets:
        partition.received(offset)
    committed: list[int] = []
    for step, offset in enumerate(order):
        partition.settled(offset)
        if commit_every and step % commit_every == 0:
            commits = tracker.to_commit()
            if commits:
                tracker.committed(commits)
                committed.append(commits["orders/0"])
    final = tracker.to_commit()
    if final:
        tracker.committed(final)
        committed.append(final["orders/0"])
    assert committed == sorted(set(committed)), "a commit went back or repeated"
    assert committed[-1] == offsets[-1] + 1
    assert tracker.to_commit() == {}


def test_a_settlement_twice_or_of_an_unknown_offset_changes_nothing() -> None:
    partition = PartitionOffsets()
    for offset in (10, 11, 12):
        partition.received(offset)
    assert partition.settled(11)
    assert not partition.settled(11)
    assert not partition.settled(99)
    assert partition.position == 10
    assert partition.in_flight == 2


def test_offsets_of_a_partition_only_go_forward() -> None:
    partition = PartitionOffsets()
    partition.received(7)
    with pytest.raises(ValueError, match="offset 5 received after 7"):
        partition.received(5)


def test_nothing_received_means_nothing_to_commit() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    tracker.partition("orders/0")
    assert tracker.to_commit() == {}
    assert tracker.in_flight() == 0


def test_a_revoked_partition_ignores_late_settlements_and_starts_afresh() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    old = tracker.partition("orders/0")
    old.received(3)
    old.received(4)
    old.settled(3)
    tracker.revoke(["orders/0"])
    assert old.revoked
    assert not old.settled(4), "a late ack of a revoked partition must not count"
    assert tracker.to_commit() == {}
    new = tracker.partition("orders/0")
    assert new is not old
    new.received(4)  # the new assignment reads again from the committed offset
    assert tracker.to_commit() == {}, "where reading started is committed already"
    new.settled(4)
    assert tracker.to_commit() == {"orders/0": 5}


def test_to_commit_of_some_partitions_and_in_flight_by_partition() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    a, b = tracker.partition("a/0"), tracker.partition("b/0")
    for offset in (0, 1, 2):
        a.received(offset)
        b.received(offset)
    assert tracker.to_commit() == {}
    a.settled(0)
    b.settled(0)
    b.settled(1)
    assert tracker.to_commit(["a/0"]) == {"a/0": 1}
    assert tracker.to_commit() == {"a/0": 1, "b/0": 2}
    assert tracker.in_flight(["a/0"]) == 2
    assert tracker.in_flight() == 3
    tracker.committed({"a/0": 1})
    assert tracker.to_commit() == {"b/0": 2}


def test_a_partition_read_again_from_before_starts_a_new_reading() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    old = tracker.partition("orders/0")
    for offset in (10, 11, 12):
        old.received(offset)
    old.settled(10)
    assert old.follows(13)
    assert not old.follows(11)
    new = tracker.restart("orders/0")
    assert old.revoked and new is not old
    assert not old.settled(11), "the old reading's messages come again; their acks do not count"
    new.received(11)
    new.settled(11)
    assert tracker.to_commit() == {"orders/0": 12}
