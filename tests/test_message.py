"""The message envelope: ids are ULIDs, derived messages keep the correlation id."""

from __future__ import annotations

import time

from ulid import ULID

from splice.message import Message, new_id


def test_ids_are_ulids_of_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000

    parsed = [ULID.from_str(i) for i in ids]
    assert all(str(u) == i and len(i) == 26 for u, i in zip(parsed, ids, strict=True))
    assert all(before <= u.milliseconds <= after for u in parsed)
    assert len(set(ids)) == len(ids)
    assert len({u.bytes[6:] for u in parsed}) == len(ids)  # the 80 random bits differ


def test_ids_sort_by_time() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()

    assert first < second
    assert ULID.from_str(first).milliseconds < ULID.from_str(second).milliseconds


def test_every_character_of_the_alphabet_is_written() -> None:
    seen = set("".join(new_id()[10:] for _ in range(500)))

    assert seen == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_a_derived_message_has_a_new_id_and_the_same_correlation_id() -> None:
    message = Message(body=b"{}", headers={"a": "1"})
    child = message.derive({"x": 1})

    assert message.correlation_id == message.id
    assert child.id != message.id
    assert child.correlation_id == message.correlation_id
    assert child.headers == {"a": "1"} and child.headers is not message.headers
