"""The message envelope: ids are ULIDs, derived messages keep the correlation id."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection

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


def _child_ids(pipe: Connection) -> None:
    pipe.send([new_id()[10:] for _ in range(3)])


def test_a_forked_worker_draws_random_bits_of_its_own() -> None:
    new_id()  # the parent has a pool of random bytes
    parent_end, child_end = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_child_ids, args=(child_end,))
    child.start()
    from_child = parent_end.recv()
    child.join(10)

    from_parent = [new_id()[10:] for _ in range(3)]
    assert not set(from_child) & set(from_parent)


def test_ids_made_by_threads_at_once_are_unique() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(2000)], range(8)))

    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)
