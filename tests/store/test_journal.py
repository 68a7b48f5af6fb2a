"""The inbound journal on both databases: order, completion, survival across restarts."""

from __future__ import annotations

from typing import Any

from splice.message import Message
from splice.store import Store


async def test_pending_entries_come_back_in_append_order(store: Store) -> None:
    messages = [Message(f"order {n}".encode()) for n in range(5)]
    ids = [await store.journal.append("orders", m) for m in messages]
    await store.journal.append("invoices", Message(b"other flow"))
    pending = await store.journal.pending("orders")
    assert [entry for entry, _ in pending] == ids
    assert [m for _, m in pending] == messages
    assert await store.journal.count_pending("orders") == 5


async def test_completed_entries_are_no_longer_pending(store: Store) -> None:
    first = await store.journal.append("orders", Message(b"1"))
    second = await store.journal.append("orders", Message(b"2"))
    await store.journal.complete(first)
    await store.journal.complete(first)
    assert [entry for entry, _ in await store.journal.pending("orders")] == [second]
    assert await store.journal.count_pending("orders") == 1


async def test_pending_entries_survive_close_and_reopen(open_store: Any) -> None:
    store = await open_store()
    message = Message({"orderId": 1}, headers={"x-request-id": "r1"}, content_type="json")
    message.record("orders", "source.http", "accepted")
    entry = await store.journal.append("orders", message)
    await store.close()
    reopened = await open_store()
    assert await reopened.journal.pending("orders") == [(entry, message)]
    await reopened.journal.complete(entry)
    assert await reopened.journal.count_pending("orders") == 0
