"""The file source: atomic claims, settling into done/failed, crash reclaim, limits."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.file.source import SPEC, FileSource, FileSourceConfig
from splice.errors import CodecError, TransientError


def make_source(root: Path, **options: Any) -> FileSource:
    config = SPEC.parse({"path": "inbox", "poll_interval": "20ms", **options})
    assert isinstance(config, FileSourceConfig)
    return FileSource(config, Context(project_dir=root, flow="orders"))


def drop(root: Path, name: str, body: bytes = b'{"id": 1}', age: float = 0.0) -> Path:
    path = root / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    if age:
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
    return path


async def pull(deliveries: AsyncIterator[Delivery]) -> Delivery:
    return await asyncio.wait_for(anext(deliveries), 10)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


async def test_a_file_becomes_a_message_and_is_moved_to_done_on_ack(tmp_path: Path) -> None:
    drop(tmp_path, "order.json")
    source = make_source(tmp_path)
    await source.open()
    delivery = await pull(source.deliveries())

    assert delivery.message.body == b'{"id": 1}'
    assert delivery.message.content_type == "application/json"
    assert delivery.message.headers["file.name"] == "order.json"
    assert delivery.message.headers["file.size"] == "9"
    assert delivery.message.headers["file.path"] == str(tmp_path / "inbox" / "order.json")
    assert "file.mtime" in delivery.message.headers
    assert names(tmp_path / "inbox") == []
    await delivery.ack()
    await source.close()
    assert names(tmp_path / "inbox" / "done") == ["order.json"]
    assert list((tmp_path / "inbox" / ".processing").iterdir()) == []


async def test_files_are_taken_in_name_order_matching_the_pattern(tmp_path: Path) -> None:
    for name in ["c.csv", "a.csv", "b.csv", "skip.txt", ".hidden.csv"]:
        drop(tmp_path, name)
    source = make_source(tmp_path, pattern="*.csv")
    await source.open()
    deliveries = source.deliveries()
    taken = [await pull(deliveries) for _ in range(3)]
    assert [d.message.headers["file.name"] for d in taken] == ["a.csv", "b.csv", "c.csv"]
    assert taken[0].message.content_type == "text/csv"
    await source.close()
    assert names(tmp_path / "inbox") == [".hidden.csv", "skip.txt"]


async def test_two_sources_on_one_folder_never_take_the_same_file(tmp_path: Path) -> None:
    expected = {f"{n:03}.json" for n in range(60)}
    for name in expected:
        drop(tmp_path, name)
    sources = [make_source(tmp_path), make_source(tmp_path)]
    taken: list[str] = []
    all_taken = asyncio.Event()

    async def consume(source: FileSource) -> None:
        async for delivery in source.deliveries():
            taken.append(delivery.message.headers["file.name"])
            await delivery.ack()
            if len(taken) == len(expected):
                all_taken.set()
            await asyncio.sleep(0)

    for source in sources:
        await source.open()
    tasks = [asyncio.create_task(consume(source)) for source in sources]
    await asyncio.wait_for(all_taken.wait(), 20)
    for source in sources:
        await source.close()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(taken) == sorted(expected)
    assert set(names(tmp_path / "inbox" / "done")) == expected


async def test_files_younger_than_min_age_are_left_alone(tmp_path: Path) -> None:
    drop(tmp_path, "b-fresh.json")
    drop(tmp_path, "a-old.json", age=3600)
    source = make_source(tmp_path, min_age="10m")
    await source.open()
    deliveries = source.deliveries()
    first = await pull(deliveries)
    assert first.message.headers["file.name"] == "a-old.json"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(deliveries), 0.3)
    await first.ack()
    await source.close()
    assert names(tmp_path / "inbox") == ["b-fresh.json"]


async def test_a_bad_message_goes_to_failed_with_an_error_sidecar(tmp_path: Path) -> None:
    drop(tmp_path, "order.json", b"{not json")
    source = make_source(tmp_path)
    await source.open()
    delivery = await pull(source.deliveries())
    await delivery.nack(CodecError("expected a value", position="1:2"))
    await source.close()

    failed = tmp_path / "inbox" / "failed"
    assert names(failed) == ["order.json", "order.json.error"]
    assert (failed / "order.json").read_bytes() == b"{not json"
    assert (failed / "order.json.error").read_text() == "codec: expected a value (at 1:2)\n"


async def test_a_transient_failure_puts_the_file_back_to_be_retried(tmp_path: Path) -> None:
    drop(tmp_path, "order.json")
    source = make_source(tmp_path)
    await source.open()
    deliveries = source.deliveries()
    first = await pull(deliveries)
    await first.nack(TransientError("erp unavailable"))
    assert names(tmp_path / "inbox") == ["order.json"]
    again = await pull(deliveries)
    assert again.message.headers["file.name"] == "order.json"
    await again.ack()
    await source.close()
    assert names(tmp_path / "inbox" / "done") == ["order.json"]


async def test_done_never_overwrites_a_file_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "inbox" / "done").mkdir(parents=True)
    (tmp_path / "inbox" / "done" / "order.json").write_bytes(b"earlier")
    drop(tmp_path, "order.json")
    source = make_source(tmp_path)
    await source.open()
    await (await pull(source.deliveries())).ack()
    await source.close()
    done = tmp_path / "inbox" / "done"
    assert names(done) == ["order.1.json", "order.json"]
    assert (done / "order.json").read_bytes() == b"earlier"


async def test_on_success_delete_removes_the_file(tmp_path: Path) -> None:
    drop(tmp_path, "order.json")
    source = make_source(tmp_path, on_success="delete", done="archive")
    await source.open()
    await (await pull(source.deliveries())).ack()
    await source.close()
    assert names(tmp_path / "archive") == []
    assert names(tmp_path / "inbox") == []


async def test_a_file_over_max_bytes_goes_to_failed_and_the_next_one_is_taken(
    tmp_path: Path,
) -> None:
    drop(tmp_path, "a-big.txt", b"x" * 100)
    drop(tmp_path, "b-small.txt", b"ok")
    source = make_source(tmp_path, max_bytes=10)
    await source.open()
    delivery = await pull(source.deliveries())
    assert delivery.message.body == b"ok"
    assert delivery.message.content_type == "text/plain"
    await delivery.ack()
    await source.close()
    failed = tmp_path / "inbox" / "failed"
    assert names(failed) == ["a-big.txt", "a-big.txt.error"]
    assert (failed / "a-big.txt.error").read_text().startswith("file-too-large: file is 100 bytes")


CRASHING_SOURCE = """
import asyncio, os, sys
from pathlib import Path
from splice.components.context import Context
from splice.connectors.file.source import SPEC, FileSource

async def main() -> None:
    source = FileSource(SPEC.parse({"path": "inbox"}), Context(Path(sys.argv[1]), "orders"))
    await source.open()
    await anext(source.deliveries())
    os._exit(3)  # a crash: the claimed file is neither acked nor nacked

asyncio.run(main())
"""


async def test_files_claimed_by_a_crashed_process_are_delivered_again(tmp_path: Path) -> None:
    drop(tmp_path, "order.json")
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_SOURCE, str(tmp_path)
    )
    assert await asyncio.wait_for(crashed.wait(), 60) == 3
    assert names(tmp_path / "inbox") == []
    loose = tmp_path / "inbox" / ".processing" / "loose.json"
    loose.write_bytes(b"{}")

    source = make_source(tmp_path)
    await source.open()
    deliveries = source.deliveries()
    again = [await pull(deliveries) for _ in range(2)]
    assert [d.message.headers["file.name"] for d in again] == ["loose.json", "order.json"]
    for delivery in again:
        await delivery.ack()
    await source.close()
    assert names(tmp_path / "inbox" / "done") == ["loose.json", "order.json"]
    assert list((tmp_path / "inbox" / ".processing").iterdir()) == []


async def test_a_live_source_keeps_its_claimed_files_when_another_starts(tmp_path: Path) -> None:
    drop(tmp_path, "order.json")
    first = make_source(tmp_path)
    await first.open()
    delivery = await pull(first.deliveries())
    second = make_source(tmp_path)
    await second.open()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(second.deliveries()), 0.3)
    await first.close()
    await delivery.ack()  # settled after close, as the runtime may do
    await second.close()
    assert names(tmp_path / "inbox" / "done") == ["order.json"]
    assert list((tmp_path / "inbox" / ".processing").iterdir()) == []


async def test_close_ends_the_deliveries(tmp_path: Path) -> None:
    source = make_source(tmp_path, poll_interval="1h")
    await source.open()
    deliveries = source.deliveries()
    waiting = asyncio.ensure_future(anext(deliveries))
    await asyncio.sleep(0.05)
    await source.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 10)
