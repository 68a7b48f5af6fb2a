"""The sftp source and sink against a real asyncssh SFTP server on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("asyncssh")

from sftp_harness import CLIENT_KEY, SftpServer, sftp_server

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.sftp.sink import SftpSink
from splice.connectors.sftp.source import SftpSource
from splice.errors import MessageError, NotConnected, TransientError
from splice.message import Message


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    async with sftp_server(tmp_path / "remote") as running:
        yield running


def _context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="test")


def _sink(server: SftpServer, tmp_path: Path, **extra: Any) -> SftpSink:
    spec = registry.get("sink", "sftp")
    sink: SftpSink = spec.build(spec.parse(server.config(**extra)), _context(tmp_path))
    return sink


def _source(server: SftpServer, tmp_path: Path, **extra: Any) -> SftpSource:
    spec = registry.get("source", "sftp")
    raw = {"poll_interval": 0.05, **server.config(**extra)}
    source: SftpSource = spec.build(spec.parse(raw), _context(tmp_path))
    return source


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


async def _next(deliveries: AsyncIterator[Delivery]) -> Delivery:
    return await asyncio.wait_for(anext(deliveries), 10)


async def test_round_trip_sink_to_source(server: SftpServer, tmp_path: Path) -> None:
    sink = _sink(server, tmp_path, name="order-{headers[order-id]}{ext}")
    await sink.open()
    try:
        await sink.send(
            Message(body=b'{"n": 1}', headers={"order-id": "7"}, content_type="application/json")
        )
    finally:
        await sink.close()
    box = server.root / "box"
    assert _files(box) == ["order-7.json"]

    source = _source(server, tmp_path)
    await source.open()
    deliveries = source.deliveries()
    try:
        delivery = await _next(deliveries)
        message = delivery.message
        assert message.body == b'{"n": 1}'
        assert message.content_type == "application/json"
        assert message.headers["sftp.name"] == "order-7.json"
        assert message.headers["sftp.path"] == "box/order-7.json"
        assert message.headers["sftp.size"] == "8"
        assert _files(box) == []  # claimed into .processing/
        await delivery.ack()
        assert _files(box / "done") == ["order-7.json"]
        assert (box / "done" / "order-7.json").read_bytes() == b'{"n": 1}'
    finally:
        await source.close()
        await deliveries.aclose()
    assert list((box / ".processing").iterdir()) == []  # our claim folder is removed


async def test_two_sources_never_take_the_same_file(server: SftpServer, tmp_path: Path) -> None:
    box = server.root / "box"
    box.mkdir()
    (box / "a.txt").write_bytes(b"a")
    (box / "b.txt").write_bytes(b"b")
    first, second = _source(server, tmp_path), _source(server, tmp_path)
    await first.open()
    await second.open()
    one, two = first.deliveries(), second.deliveries()
    try:
        taken_first = await _next(one)
        taken_second = await _next(two)
        assert taken_first.message.body == b"a"
        assert taken_second.message.body == b"b"
        await taken_first.ack()
        await taken_second.ack()
        assert _files(box / "done") == ["a.txt", "b.txt"]
    finally:
        await first.close()
        await second.close()
        await one.aclose()
        await two.aclose()


async def test_bad_message_goes_to_failed_other_failures_are_retried(
    server: SftpServer, tmp_path: Path
) -> None:
    box = server.root / "box"
    box.mkdir()
    (box / "bad.csv").write_bytes(b"x")
    (box / "retry.csv").write_bytes(b"y")
    source = _source(server, tmp_path, pattern="*.csv")
    await source.open()
    deliveries = source.deliveries()
    try:
        bad = await _next(deliveries)
        assert bad.message.headers["sftp.name"] == "bad.csv"
        await bad.nack(MessageError("not a valid order"))
        assert _files(box / "failed") == ["bad.csv"]

        retry = await _next(deliveries)
        assert retry.message.headers["sftp.name"] == "retry.csv"
        await retry.nack(TransientError("the ERP is down"))
        assert _files(box) == ["retry.csv"]  # given back to the folder

        again = await _next(deliveries)
        assert again.message.headers["sftp.name"] == "retry.csv"
        assert again.message.id == retry.message.id
        await again.ack()
        assert _files(box / "done") == ["retry.csv"]
        assert _files(box) == []
    finally:
        await source.close()
        await deliveries.aclose()


async def test_delete_on_success_and_pattern(server: SftpServer, tmp_path: Path) -> None:
    box = server.root / "box"
    box.mkdir()
    (box / "keep.txt").write_bytes(b"k")
    (box / "take.xml").write_bytes(b"<a/>")
    source = _source(server, tmp_path, pattern="*.xml", on_success="delete")
    await source.open()
    deliveries = source.deliveries()
    try:
        delivery = await _next(deliveries)
        assert delivery.message.content_type == "application/xml"
        await delivery.ack()
        assert _files(box) == ["keep.txt"]
        assert _files(box / "done") == []
    finally:
        await source.close()
        await deliveries.aclose()


async def test_files_of_a_crashed_source_are_adopted(server: SftpServer, tmp_path: Path) -> None:
    orphan = server.root / "box" / ".processing" / "01CRASHED"
    orphan.mkdir(parents=True)
    (orphan / "left.txt").write_bytes(b"left behind")
    os.utime(orphan, (0, 0))
    alive = server.root / "box" / ".processing" / "01ALIVE"
    alive.mkdir()
    (alive / "busy.txt").write_bytes(b"someone else's")
    source = _source(server, tmp_path)
    await source.open()
    deliveries = source.deliveries()
    try:
        delivery = await _next(deliveries)
        assert delivery.message.body == b"left behind"
        await delivery.ack()
        assert _files(server.root / "box" / "done") == ["left.txt"]
        assert not orphan.exists()
        assert _files(alive) == ["busy.txt"]
    finally:
        await source.close()
        await deliveries.aclose()


async def test_upload_is_atomic_and_never_overwrites(server: SftpServer, tmp_path: Path) -> None:
    box = server.root / "box"
    box.mkdir()
    (box / "same.txt").write_bytes(b"first")
    sink = _sink(server, tmp_path, name="same.txt")
    await sink.open()
    try:
        await sink.send(Message(body="second"))
    finally:
        await sink.close()
    assert (box / "same.txt").read_bytes() == b"first"
    assert (box / "same.1.txt").read_bytes() == b"second"
    assert _files(box) == ["same.1.txt", "same.txt"]  # no temporary file left
    writes = [event for event in server.events if event.startswith("write ")]
    assert len(writes) == 1
    temporary = writes[0].removeprefix("write ")
    assert temporary.startswith("box/.same.txt.") and temporary.endswith(".tmp")
    assert server.events[-1] == f"rename {temporary} box/same.1.txt"


async def test_overwrite_replaces(server: SftpServer, tmp_path: Path) -> None:
    box = server.root / "box"
    box.mkdir()
    (box / "same.txt").write_bytes(b"first")
    sink = _sink(server, tmp_path, name="same.txt", overwrite=True)
    await sink.open()
    try:
        await sink.send(Message(body=b"second"))
    finally:
        await sink.close()
    assert _files(box) == ["same.txt"]
    assert (box / "same.txt").read_bytes() == b"second"


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", ""])
async def test_unsafe_names_are_refused(server: SftpServer, tmp_path: Path, name: str) -> None:
    sink = _sink(server, tmp_path, name="{headers[file]}")
    await sink.open()
    try:
        with pytest.raises(MessageError):
            await sink.send(Message(body=b"x", headers={"file": name}))
        with pytest.raises(MessageError):
            await sink.send(Message(body=b"x"))  # missing header
    finally:
        await sink.close()
    assert [p.name for p in server.root.rglob("*")] == ["box"]
    assert not any(event.startswith("write ") for event in server.events)


async def test_host_key_is_checked(server: SftpServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    sink = _sink(server, tmp_path, known_hosts="known_hosts")
    await sink.open()
    await sink.close()

    other = await _other_host_key_line(server.port)
    known.write_text(other)
    sink = _sink(server, tmp_path, known_hosts="known_hosts")
    with pytest.raises(NotConnected):
        await sink.open()
    await sink.close()


async def _other_host_key_line(port: int) -> str:
    import asyncssh

    public = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    return f"[127.0.0.1]:{port} {public}\n"


async def test_login_with_a_client_key(server: SftpServer, tmp_path: Path) -> None:
    (tmp_path / "id_ed25519").write_bytes(CLIENT_KEY.export_private_key())
    raw = {**server.config(client_keys=["id_ed25519"])}
    del raw["password"]
    spec = registry.get("sink", "sftp")
    sink = spec.build(spec.parse(raw), _context(tmp_path))
    await sink.open()
    try:
        await sink.send(Message(body=b"by key", headers={}))
    finally:
        await sink.close()
    assert len(_files(server.root / "box")) == 1


async def test_wrong_password_is_not_connected(server: SftpServer, tmp_path: Path) -> None:
    sink = _sink(server, tmp_path, password="wrong")
    with pytest.raises(NotConnected):
        await sink.open()
    await sink.close()


async def test_server_down_is_not_connected(tmp_path: Path) -> None:
    async with sftp_server(tmp_path / "remote") as gone:
        pass
    sink = _sink(gone, tmp_path)
    with pytest.raises(NotConnected):
        await sink.open()
    with pytest.raises(NotConnected):
        await sink.send(Message(body=b"x"))
    await sink.close()
    await sink.close()


def test_config_needs_credentials_and_hides_the_password() -> None:
    spec = registry.get("sink", "sftp")
    with pytest.raises(ValueError, match="password"):
        spec.parse({"host": "h", "username": "u"})
    config = spec.parse({"host": "h", "username": "u", "password": "s3cret"})
    assert "s3cret" not in repr(config)
    with pytest.raises(ValueError, match="placeholder"):
        spec.parse({"host": "h", "username": "u", "password": "p", "name": "{nope}"})
