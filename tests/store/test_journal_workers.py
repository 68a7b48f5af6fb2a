"""The journal under ``splice run --workers N``: each worker resumes its own entries only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from splice.message import Message
from splice.store import Store

OpenAs = Callable[..., Awaitable[Store]]


@pytest.fixture
async def open_as(store_url: str, tmp_path: Path) -> AsyncIterator[OpenAs]:
    """Opens the test store as a given worker (or as a single process)."""
    opened: list[Store] = []

    async def _open(worker: int | None = None, workers: int = 1) -> Store:
        store = await Store.open(store_url, project_dir=tmp_path, worker=worker, workers=workers)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        await store.close()


async def entries(store: Store) -> list[int]:
    return [entry for entry, _ in await store.journal.pending("orders")]


async def test_a_worker_resumes_only_its_own_entries(open_as: OpenAs) -> None:
    single = await open_as()
    untagged = await single.journal.append("orders", Message(b"before workers"))
    worker0, worker1 = await open_as(0, 2), await open_as(1, 2)
    first = await worker0.journal.append("orders", Message(b"w0"))
    second = await worker1.journal.append("orders", Message(b"w1"))
    assert await entries(worker1) == [second]
    assert await entries(worker0) == [untagged, first]
    assert await entries(single) == [untagged, first, second]
    assert await worker0.journal.count_pending("orders") == 3


async def test_worker_zero_takes_over_entries_of_workers_no_longer_running(
    open_as: OpenAs,
) -> None:
    gone = await open_as(2, 3)
    entry = await gone.journal.append("orders", Message(b"w2"))
    worker0, worker1 = await open_as(0, 2), await open_as(1, 2)
    assert await entries(worker0) == [entry]
    assert await entries(worker1) == []
