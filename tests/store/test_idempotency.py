"""Idempotency keys on both databases, including concurrent claimers."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

from splice.store import Store


async def test_first_claim_wins_and_duplicates_lose(store: Store) -> None:
    assert await store.idempotency.claim("payments", "order-1", 60) is True
    assert await store.idempotency.claim("payments", "order-1", 60) is False
    assert await store.idempotency.claim("payments", "order-2", 60) is True


async def test_scopes_are_independent(store: Store) -> None:
    assert await store.idempotency.claim("payments", "order-1", 60) is True
    assert await store.idempotency.claim("refunds", "order-1", 60) is True


async def test_expired_key_can_be_claimed_again_once(store: Store) -> None:
    assert await store.idempotency.claim("payments", "order-1", 0.05) is True
    await asyncio.sleep(0.1)
    assert await store.idempotency.claim("payments", "order-1", 60) is True
    assert await store.idempotency.claim("payments", "order-1", 60) is False


async def test_released_key_can_be_claimed_again(store: Store) -> None:
    assert await store.idempotency.claim("payments", "order-1", 60) is True
    await store.idempotency.release("payments", "order-1")
    await store.idempotency.release("payments", "never-claimed")
    assert await store.idempotency.claim("payments", "order-1", 60) is True


async def test_many_concurrent_claims_have_exactly_one_winner(store: Store) -> None:
    results = await asyncio.gather(
        *(store.idempotency.claim("payments", "order-1", 60) for _ in range(50))
    )
    assert results.count(True) == 1


async def test_concurrent_claims_from_two_stores_have_exactly_one_winner(
    open_store: Any,
) -> None:
    one, two = await open_store(), await open_store()
    claims = [
        s.idempotency.claim("payments", f"order-{n % 5}", 60) for n in range(40) for s in (one, two)
    ]
    results = await asyncio.gather(*claims)
    assert results.count(True) == 5


async def test_concurrent_takeover_of_an_expired_key_has_one_winner(open_store: Any) -> None:
    one, two = await open_store(), await open_store()
    assert await one.idempotency.claim("payments", "order-1", 0.01) is True
    await asyncio.sleep(0.05)
    results = await asyncio.gather(
        *(s.idempotency.claim("payments", "order-1", 60) for s in [one, two] * 10)
    )
    assert results.count(True) == 1


async def test_purge_expired_deletes_only_expired_keys(store: Store) -> None:
    await store.idempotency.claim("payments", "old", 0.01)
    await store.idempotency.claim("payments", "fresh", 60)
    await asyncio.sleep(0.05)
    assert await store.idempotency.purge_expired() == 1
    assert await store.idempotency.claim("payments", "fresh", 60) is False


CLAIMER = """
import asyncio, sys
from pathlib import Path
from splice.store import Store

async def main(url, project):
    store = await Store.open(url, project_dir=Path(project))
    try:
        wins = [await store.idempotency.claim("payments", f"order-{n}", 60) for n in range(20)]
    finally:
        await store.close()
    print(sum(wins))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_claims_from_separate_processes_have_one_winner_per_key(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLAIMER, store_url, str(tmp_path), stdout=PIPE, stderr=PIPE
        )
        for _ in range(3)
    ]
    outputs = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _, err in outputs]
    assert sum(int(out) for out, _ in outputs) == 20
