"""The dead-letter queue on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from splice.message import Message
from splice.store import NotFound, Store


def order(body: Any = b'{"orderId": 1}', **fields: Any) -> Message:
    message = Message(body, headers={"source": "crm"}, content_type="application/json", **fields)
    message.record("orders", "source.http", "received")
    return message


async def dead_letter(store: Store, message: Message, *, flow: str = "orders", n: int = 1) -> str:
    return await store.dead_letters.add(
        flow=flow,
        flow_version="v3",
        step="sinks.erp",
        error_class="PermanentError",
        error_code="permanent",
        error_message=f"refused by the ERP (failure {n})",
        message=message,
        attempts=[{"attempt": n, "error": "HTTP 422"}],
    )


async def test_added_dead_letter_keeps_every_field_and_the_message(store: Store) -> None:
    message = order(correlation_id="corr-1", attempts=3, targets=("erp",))
    id = await dead_letter(store, message)
    found = await store.dead_letters.get(id)
    assert found is not None
    assert (found.flow, found.flow_version, found.step) == ("orders", "v3", "sinks.erp")
    assert (found.error_class, found.error_code) == ("PermanentError", "permanent")
    assert found.error_message == "refused by the ERP (failure 1)"
    assert (found.status, found.replay_count, found.failure_count) == ("pending", 0, 1)
    assert found.attempts == [{"attempt": 1, "error": "HTTP 422"}]
    assert found.first_failure_at == found.last_failure_at
    assert found.first_failure_at.tzinfo is UTC
    assert found.message() == message


async def test_decoded_body_round_trips_as_json(store: Store) -> None:
    message = order({"orderId": 7, "items": [{"qty": 2, "price": 9.5}], "note": None})
    id = await dead_letter(store, message)
    found = await store.dead_letters.get(id)
    assert found is not None
    assert found.message().body == {"orderId": 7, "items": [{"qty": 2, "price": 9.5}], "note": None}


async def test_same_message_failing_again_updates_its_history(store: Store) -> None:
    message = order()
    first = await dead_letter(store, message, n=1)
    again = await dead_letter(store, message, n=2)
    assert again == first
    found = await store.dead_letters.get(first)
    assert found is not None
    assert found.failure_count == 2
    assert [a["attempt"] for a in found.attempts] == [1, 2]
    assert found.error_message == "refused by the ERP (failure 2)"
    assert found.last_failure_at > found.first_failure_at
    assert await store.dead_letters.count() == 1


async def test_same_message_in_another_flow_is_another_dead_letter(store: Store) -> None:
    message = order()
    assert await dead_letter(store, message) != await dead_letter(store, message, flow="other")
    assert await store.dead_letters.count() == 2


async def test_concurrent_failures_of_one_message_make_one_dead_letter(
    open_store: Any,
) -> None:
    one, two = await open_store(), await open_store()
    message = order()
    ids = await asyncio.gather(
        *(dead_letter(s, message, n=n) for n, s in enumerate([one, two] * 5))
    )
    assert len(set(ids)) == 1
    found = await one.dead_letters.get(ids[0])
    assert found is not None
    assert found.failure_count == 10
    assert sorted(a["attempt"] for a in found.attempts) == list(range(10))


async def test_list_filters_by_flow_and_since_newest_first(store: Store) -> None:
    a = await dead_letter(store, order())
    b = await dead_letter(store, order(), flow="invoices")
    between = datetime.now(UTC)
    c = await dead_letter(store, order())
    assert [d.id for d in await store.dead_letters.list()] == [c, b, a]
    assert [d.id for d in await store.dead_letters.list(flow="orders")] == [c, a]
    assert [d.id for d in await store.dead_letters.list(since=between)] == [c]
    assert [d.id for d in await store.dead_letters.list(limit=1)] == [c]
    assert await store.dead_letters.list(since=between + timedelta(hours=1)) == []
    assert (await store.dead_letters.count(), await store.dead_letters.count("orders")) == (3, 2)


async def test_get_unknown_id_is_none(store: Store) -> None:
    assert await store.dead_letters.get("01HZZZZZZZZZZZZZZZZZZZZZZZ") is None


async def test_update_payload_replaces_the_body_for_replay(store: Store) -> None:
    message = order({"orderId": "not-a-number"})
    id = await dead_letter(store, message)
    await store.dead_letters.update_payload(id, b'{"orderId": 7}', "application/json")
    found = await store.dead_letters.get(id)
    assert found is not None
    replay = found.message()
    assert (replay.id, replay.body, replay.content_type) == (
        message.id,
        b'{"orderId": 7}',
        "application/json",
    )
    assert found.payload_edited_at is not None


async def test_mark_replayed_counts_replays(store: Store) -> None:
    id = await dead_letter(store, order())
    await store.dead_letters.mark_replayed(id)
    await store.dead_letters.mark_replayed(id)
    found = await store.dead_letters.get(id)
    assert found is not None
    assert (found.status, found.replay_count) == ("replayed", 2)
    assert found.last_replayed_at is not None
    assert found.last_replayed_at >= found.last_failure_at


async def test_replayed_message_failing_again_is_pending_again(store: Store) -> None:
    message = order()
    id = await dead_letter(store, message)
    await store.dead_letters.mark_replayed(id)
    await dead_letter(store, message, n=2)
    found = await store.dead_letters.get(id)
    assert found is not None
    assert (found.status, found.replay_count, found.failure_count) == ("pending", 1, 2)


async def test_changing_an_unknown_dead_letter_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.dead_letters.mark_replayed("nope")
    with pytest.raises(NotFound):
        await store.dead_letters.update_payload("nope", b"", None)


async def test_purge_drops_payloads_by_flow_and_hides_them(store: Store) -> None:
    kept = await dead_letter(store, order(), flow="invoices")
    gone = [await dead_letter(store, order()) for _ in range(3)]
    assert await store.dead_letters.purge("orders") == 3
    assert await store.dead_letters.purge("orders") == 0
    assert [d.id for d in await store.dead_letters.list()] == [kept]
    purged = await store.dead_letters.get(gone[0])
    assert purged is not None
    assert (purged.status, purged.message().body) == ("purged", b"")
    assert len(await store.dead_letters.list(status="purged")) == 3
    assert await store.dead_letters.purge() == 1
    assert await store.dead_letters.count() == 0
