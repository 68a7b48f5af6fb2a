"""The file source's records mode: one decoded message per record, the file settled last."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.file.source import SPEC, FileSource, FileSourceConfig
from splice.errors import CodecError, TransientError

CSV = b"id,name\n1,a\n2,b\n3,c\n"


def make_source(root: Path, **options: Any) -> FileSource:
    raw = {"path": "inbox", "poll_interval": "20ms", "records": "csv", **options}
    config = SPEC.parse(raw)
    assert isinstance(config, FileSourceConfig)
    return FileSource(config, Context(project_dir=root, flow="orders"))


def drop(root: Path, name: str, body: bytes = CSV) -> Path:
    path = root / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


async def take(deliveries: AsyncIterator[Delivery], count: int) -> list[Delivery]:
    return [await asyncio.wait_for(anext(deliveries), 10) for _ in range(count)]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def processing(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "inbox" / ".processing").rglob("*.csv"))


async def test_each_record_is_a_decoded_message_and_the_file_moves_once_all_are_acked(
    tmp_path: Path,
) -> None:
    drop(tmp_path, "orders.csv")
    source = make_source(tmp_path, max_bytes=5)  # max_bytes does not apply to records
    await source.open()
    taken = await take(source.deliveries(), 3)
    assert [d.message.body for d in taken] == [
        {"id": "1", "name": "a"},
        {"id": "2", "name": "b"},
        {"id": "3", "name": "c"},
    ]
    assert [d.message.headers["file.record"] for d in taken] == ["0", "1", "2"]
    assert {d.message.headers["file.name"] for d in taken} == {"orders.csv"}
    assert taken[0].message.content_type == "text/csv"
    assert len({d.message.id for d in taken}) == 3
    for delivery in taken[:2]:
        await delivery.ack()
    assert processing(tmp_path) == ["orders.csv"]
    await taken[2].ack()
    await source.close()
    assert names(tmp_path / "inbox" / "done") == ["orders.csv"]
    assert processing(tmp_path) == []


async def test_a_refused_record_sends_the_file_to_failed_naming_it(tmp_path: Path) -> None:
    drop(tmp_path, "orders.csv")
    source = make_source(tmp_path)
    await source.open()
    first, second, third = await take(source.deliveries(), 3)
    await first.ack()
    await second.nack(CodecError("bad sku", position="sku"))
    await third.ack()
    await source.close()
    assert names(tmp_path / "inbox" / "failed") == ["orders.csv", "orders.csv.error"]
    note = (tmp_path / "inbox" / "failed" / "orders.csv.error").read_text()
    assert note == "codec: record 1: bad sku (at sku)\n"


async def test_a_file_unreadable_past_a_record_goes_to_failed_after_the_good_ones(
    tmp_path: Path,
) -> None:
    drop(tmp_path, "orders.csv", b"id,name\n1,a\n2,b,extra\n3,c\n")
    source = make_source(tmp_path)
    await source.open()
    deliveries = source.deliveries()
    (good,) = await take(deliveries, 1)
    assert good.message.body == {"id": "1", "name": "a"}
    reading_on = asyncio.ensure_future(anext(deliveries))  # meets the bad row, then waits
    await asyncio.sleep(0.2)
    assert processing(tmp_path) == ["orders.csv"]  # the good record is still in flight
    await good.ack()
    note = (tmp_path / "inbox" / "failed" / "orders.csv.error").read_text()
    assert note.startswith("codec: row 3 has 3 fields, expected 2")
    reading_on.cancel()
    await source.close()


async def test_another_failure_gives_the_file_back_to_be_read_again(tmp_path: Path) -> None:
    drop(tmp_path, "orders.csv")
    source = make_source(tmp_path)
    await source.open()
    deliveries = source.deliveries()
    first, second, third = await take(deliveries, 3)
    await first.ack()
    await second.nack(TransientError("sink down"))
    await third.ack()
    assert names(tmp_path / "inbox") == ["orders.csv"]
    again = await take(deliveries, 3)  # from the start: at least once
    assert [d.message.body["id"] for d in again] == ["1", "2", "3"]
    for delivery in again:
        await delivery.ack()
    await source.close()
    assert names(tmp_path / "inbox" / "done") == ["orders.csv"]


async def test_closing_before_the_end_gives_the_file_back(tmp_path: Path) -> None:
    drop(tmp_path, "orders.csv")
    source = make_source(tmp_path)
    await source.open()
    deliveries = source.deliveries()
    (first,) = await take(deliveries, 1)
    await first.ack()
    await source.close()
    await deliveries.aclose()
    assert names(tmp_path / "inbox") == ["orders.csv"]
    assert processing(tmp_path) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"records": "json"}, "codec 'json' reads a whole document, not records"),
        ({"records": "csvv"}, "did you mean 'csv'"),
        ({"records_options": {"delimiter": ";;"}}, "delimiter"),
        ({"records": None, "records_options": {"header": False}}, "'records_options' needs"),
    ],
)
def test_records_config_is_checked_when_the_flow_loads(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        SPEC.parse({"path": "inbox", "records": "csv", **options})


async def test_a_large_file_streams_through_in_bounded_memory(tmp_path: Path) -> None:
    """Records are read as they are taken: ten times the rows, about the same peak."""
    peaks = {}
    for rows in (2_000, 20_000):
        body = b"id,name\n" + b"".join(b"%d,name %d\n" % (n, n) for n in range(rows))
        drop(tmp_path / str(rows), "big.csv", body)
        source = make_source(tmp_path / str(rows))
        await source.open()
        deliveries = source.deliveries()
        tracemalloc.start()
        try:
            for delivery in await take(deliveries, 1):
                await delivery.ack()
            for _ in range(rows - 1):
                await (await anext(deliveries)).ack()
            peaks[rows] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        await source.close()
        await deliveries.aclose()
        assert names(tmp_path / str(rows) / "inbox" / "done") == ["big.csv"]
    assert peaks[20_000] < 2 * peaks[2_000], peaks


async def test_a_flow_turns_a_csv_file_into_json_lines_record_by_record(tmp_path: Path) -> None:
    from tests.runtime.engine_harness import eventually, files, start, write

    root = write(
        tmp_path,
        {
            "splice.yaml": "",
            "flows/orders.yaml": """
                integration: orders
                source: {file: {path: inbox, poll_interval: 50ms, records: csv}}
                steps:
                  - encode: jsonl
                sinks:
                  out: {file: {path: out, name: "{headers[file.name]}.jsonl", mode: append}}
            """,
        },
    )
    rows = 300
    drop(root, "orders.csv", b"id,qty\n" + b"".join(b"%d,%d\n" % (n, n % 7) for n in range(rows)))
    engine = await start(root)
    try:
        await eventually(lambda: files(root / "inbox" / "done") == ["orders.csv"], timeout=60)
    finally:
        await engine.stop()
    lines = (root / "out" / "orders.csv.jsonl").read_text().splitlines()
    assert sorted(lines) == sorted(f'{{"id":"{n}","qty":"{n % 7}"}}' for n in range(rows))
