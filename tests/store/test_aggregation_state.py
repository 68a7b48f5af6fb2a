"""Aggregation state on both databases: groups, completion, late arrivals, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from splice.message import Message
from splice.store import Store


async def test_add_counts_and_get_keeps_arrival_order(store: Store) -> None:
    lines = [Message({"line": n}) for n in range(3)]
    assert [await store.aggregations.add("orders", "o-1", m) for m in lines] == [1, 2, 3]
    await store.aggregations.add("orders", "o-2", Message({"line": 0}))
    assert await store.aggregations.get("orders", "o-1") == lines
    assert await store.aggregations.get("orders", "o-1") == lines


async def test_complete_takes_the_group_and_remembers_it(store: Store) -> None:
    lines = [Message({"line": n}) for n in range(3)]
    for m in lines:
        await store.aggregations.add("orders", "o-1", m)
    assert await store.aggregations.is_completed("orders", "o-1") is False
    assert await store.aggregations.complete("orders", "o-1") == lines
    assert await store.aggregations.get("orders", "o-1") == []
    assert await store.aggregations.is_completed("orders", "o-1") is True
    assert await store.aggregations.is_completed("invoices", "o-1") is False


async def test_open_groups_lists_key_first_arrival_and_size(store: Store) -> None:
    await store.aggregations.add("orders", "o-1", Message(b"a"))
    await store.aggregations.add("orders", "o-2", Message(b"b"))
    await store.aggregations.add("orders", "o-1", Message(b"c"))
    await store.aggregations.add("invoices", "i-1", Message(b"d"))
    groups = await store.aggregations.open_groups("orders")
    assert [(g.key, g.message_count) for g in groups] == [("o-1", 2), ("o-2", 1)]
    assert groups[0].first_at <= groups[1].first_at
    await store.aggregations.complete("orders", "o-1")
    assert [g.key for g in await store.aggregations.open_groups("orders")] == ["o-2"]


async def test_concurrent_completions_hand_the_messages_out_once(open_store: Any) -> None:
    one, two = await open_store(), await open_store()
    for n in range(5):
        await one.aggregations.add("orders", "o-1", Message({"line": n}))
    taken = await asyncio.gather(
        *(s.aggregations.complete("orders", "o-1") for s in [one, two] * 3)
    )
    assert sorted(len(t) for t in taken) == [0, 0, 0, 0, 0, 5]


async def test_state_and_completion_survive_close_and_reopen(open_store: Any) -> None:
    store = await open_store()
    await store.aggregations.add("orders", "open", Message(b"1"))
    await store.aggregations.add("orders", "done", Message(b"2"))
    await store.aggregations.complete("orders", "done")
    await store.close()
    reopened = await open_store()
    assert [m.body for m in await reopened.aggregations.get("orders", "open")] == [b"1"]
    assert await reopened.aggregations.is_completed("orders", "done") is True
    assert [g.key for g in await reopened.aggregations.open_groups("orders")] == ["open"]


async def test_complete_through_a_snapshot_leaves_later_messages(store: Store) -> None:
    await store.aggregations.add("orders", "o-1", Message({"n": 1}))
    await store.aggregations.add("orders", "o-1", Message({"n": 2}))
    seen, last = await store.aggregations.snapshot("orders", "o-1")
    await store.aggregations.add("orders", "o-1", Message({"n": 3}))  # another worker
    taken = await store.aggregations.complete("orders", "o-1", through=last)
    assert [m.body for m in taken] == [m.body for m in seen] == [{"n": 1}, {"n": 2}]
    assert [m.body for m in await store.aggregations.get("orders", "o-1")] == [{"n": 3}]
    first, _ = await store.aggregations.snapshot("orders", "o-1", limit=1)
    assert [m.body for m in first] == [{"n": 3}]
