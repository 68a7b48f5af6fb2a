"""The file sink: atomic writes, safe names, no overwrite, whole lines when appending."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from splice.components.context import Context, SharedResources
from splice.connectors.file.sink import SPEC, FileSink, FileSinkConfig
from splice.errors import MessageError
from splice.message import Message


def make_sink(root: Path, shared: SharedResources | None = None, **options: Any) -> FileSink:
    config = SPEC.parse({"path": "outbox", **options})
    assert isinstance(config, FileSinkConfig)
    context = Context(project_dir=root, flow="orders", shared=shared or SharedResources())
    return FileSink(config, context)


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_write_names_the_file_after_the_message_and_its_content_type(
    tmp_path: Path,
) -> None:
    sink = make_sink(tmp_path)
    await sink.open()
    message = Message(b'{"id": 1}', content_type="application/json")
    await sink.send(message)
    await sink.close()
    assert files(tmp_path / "outbox") == [f"{message.id}.json"]
    assert (tmp_path / "outbox" / f"{message.id}.json").read_bytes() == b'{"id": 1}'


async def test_write_is_atomic_through_a_hidden_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_before_link: list[list[str]] = []
    real_link = os.link

    def spying_link(source: Any, target: Any) -> None:
        seen_before_link.append(files(Path(target).parent))
        real_link(source, target)

    monkeypatch.setattr(os, "link", spying_link)
    sink = make_sink(tmp_path, name="order{ext}")
    await sink.open()
    await sink.send(Message(b"<order/>", content_type="application/xml"))

    [before] = seen_before_link
    assert len(before) == 1
    assert before[0].startswith(".order.xml.")
    assert before[0].endswith(".tmp")
    assert files(tmp_path / "outbox") == ["order.xml"]


async def test_an_existing_file_is_never_overwritten_unless_asked(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, name="{headers[order]}.txt")
    await sink.open()
    for body in (b"first", b"second"):
        await sink.send(Message(body, headers={"order": "42"}))
    outbox = tmp_path / "outbox"
    assert files(outbox) == ["42.1.txt", "42.txt"]
    assert (outbox / "42.txt").read_bytes() == b"first"

    replacing = make_sink(tmp_path, name="{headers[order]}.txt", overwrite=True)
    await replacing.send(Message(b"third", headers={"order": "42"}))
    assert (outbox / "42.txt").read_bytes() == b"third"


@pytest.mark.parametrize("order", ["../x", "a/b", "a\\b", "..", ".hidden", "", "a\0b"])
async def test_unsafe_names_are_refused(tmp_path: Path, order: str) -> None:
    sink = make_sink(tmp_path, name="{headers[order]}")
    await sink.open()
    with pytest.raises(MessageError, match="unsafe file name"):
        await sink.send(Message(b"x", headers={"order": order}))
    assert files(tmp_path / "outbox") == []
    assert files(tmp_path) == ["outbox"]


async def test_a_missing_header_is_a_message_error_naming_it(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, name="{headers[order-id]}.json")
    await sink.open()
    with pytest.raises(MessageError, match="order-id"):
        await sink.send(Message(b"{}"))


async def test_a_decoded_body_asks_for_an_encode_step(tmp_path: Path) -> None:
    sink = make_sink(tmp_path)
    await sink.open()
    with pytest.raises(MessageError, match="encode"):
        await sink.send(Message({"id": 1}))


def test_an_unknown_placeholder_is_refused_at_validation() -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        SPEC.parse({"path": "out", "name": "{body.__class__}"})


async def test_placeholders_render_dates_and_extensions(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, name="{date}-{correlation_id}{ext}")
    await sink.open()
    message = Message(b"a,b", content_type="text/csv; charset=utf-8")
    await sink.send(message)
    [name] = files(tmp_path / "outbox")
    assert name.endswith(f"-{message.correlation_id}.csv")
    assert len(name.split("-")[0]) == 4


async def test_concurrent_appends_from_two_flows_keep_every_line_whole(tmp_path: Path) -> None:
    shared = SharedResources()
    sinks = [make_sink(tmp_path, shared, name="log.jsonl", mode="append") for _ in range(2)]
    for sink in sinks:
        await sink.open()
    records = [(b'{"n": %d, "pad": "%s"}' % (n, b"x" * 5000)) for n in range(100)]
    await asyncio.gather(*(sinks[n % 2].send(Message(r)) for n, r in enumerate(records)))
    lines = (tmp_path / "outbox" / "log.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert sorted(lines[:-1]) == sorted(records)


async def test_append_without_newline_writes_records_as_they_are(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, name="raw.txt", mode="append", newline=False)
    await sink.open()
    for part in (b"ab", b"cd\n"):
        await sink.send(Message(part))
    assert (tmp_path / "outbox" / "raw.txt").read_bytes() == b"abcd\n"


@pytest.mark.parametrize(("fsync", "synced"), [(True, True), (False, False)])
async def test_fsync_false_writes_the_same_files_without_flushing_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool, synced: bool
) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    appender = make_sink(tmp_path, name="log.jsonl", mode="append", fsync=fsync)
    writer = make_sink(tmp_path, name="one.json", fsync=fsync)
    for sink in (appender, writer):
        await sink.open()
    for n in range(3):
        await appender.send(Message(b'{"n": %d}' % n))
    await writer.send(Message(b'{"n": 9}'))
    assert (tmp_path / "outbox" / "log.jsonl").read_bytes() == b'{"n": 0}\n{"n": 1}\n{"n": 2}\n'
    assert (tmp_path / "outbox" / "one.json").read_bytes() == b'{"n": 9}'
    assert bool(calls) is synced
