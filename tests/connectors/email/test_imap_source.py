"""The imap source against a real IMAP server (pymap) on loopback: at least once, settled
on the server only after the sinks confirmed."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aioimaplib")
pytest.importorskip("pymap")

from imap_harness import ImapServer, Mailbox, imap_server, mail, mailbox

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.config import load_flow
from splice.connectors.email.imap import ImapSource
from splice.errors import ConfigError, NotConnected, TransientError
from splice.settings import ProjectSettings

CSV = b"sku,qty\nA-1,2\n"


@pytest.fixture
def server() -> Iterator[ImapServer]:
    with imap_server() as running:
        yield running


@pytest.fixture
async def box(server: ImapServer) -> AsyncIterator[Mailbox]:
    async with mailbox(server) as opened:
        yield opened


def _source(server: ImapServer, tmp_path: Path, **extra: Any) -> ImapSource:
    spec = registry.get("source", "imap")
    source: ImapSource = spec.build(
        spec.parse(server.config(**extra)), Context(project_dir=tmp_path, flow="test")
    )
    return source


async def _take(source: ImapSource, count: int) -> tuple[list[Delivery], AsyncIterator[Delivery]]:
    deliveries = source.deliveries()
    taken = [await asyncio.wait_for(anext(deliveries), 10) for _ in range(count)]
    return taken, deliveries


async def test_each_email_is_a_message_and_is_marked_seen_only_after_the_ack(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    for n in range(3):
        await box.append(mail(f"order {n}"))
    source = _source(server, tmp_path)
    await source.open()
    try:
        taken, _ = await _take(source, 3)
        subjects = [d.message.headers["email.subject"] for d in taken]
        assert subjects == ["order 0", "order 1", "order 2"]
        first = taken[0].message
        assert first.content_type == "message/rfc822"
        assert b"Subject: order 0" in first.body_bytes()
        assert first.headers["email.from"] == "edi@partner.example"
        assert first.headers["email.message_id"] == "<order-0@partner.example>"
        assert first.headers["imap.mailbox"] == "INBOX"
        assert len(await box.search("UNSEEN")) == 3, "fetching must not mark an email read"
        await taken[0].ack()
        await taken[1].ack()
        unseen = await box.search("UNSEEN")
        assert unseen == [int(taken[2].message.headers["imap.uid"])]
    finally:
        await source.close()


async def test_a_nacked_email_stays_unseen_and_comes_again_with_the_same_id(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.append(mail("retry me"))
    source = _source(server, tmp_path)
    await source.open()
    try:
        (first,), deliveries = await _take(source, 1)
        await first.nack(TransientError("the ERP is down"))
        again = await asyncio.wait_for(anext(deliveries), 10)
        assert again.message.id == first.message.id
        assert again.message.headers["email.subject"] == "retry me"
        assert len(await box.search("UNSEEN")) == 1
        await again.ack()
        assert await box.search("UNSEEN") == []
    finally:
        await source.close()


async def test_an_email_not_acked_before_a_crash_is_delivered_again(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.append(mail("in flight"))
    crashed = _source(server, tmp_path)
    await crashed.open()
    (lost,), _ = await _take(crashed, 1)
    await crashed._drop()  # the process died: the connection is gone, nothing settled
    restarted = _source(server, tmp_path)
    await restarted.open()
    try:
        (again,), _ = await _take(restarted, 1)
        assert again.message.body_bytes() == lost.message.body_bytes()
        await again.ack()
        assert await box.search("UNSEEN") == []
    finally:
        await restarted.close()


async def test_move_takes_the_email_out_of_the_mailbox_after_the_ack(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.create("Processed")
    await box.append(mail("to archive"))
    source = _source(server, tmp_path, on_success="move", move_to="Processed")
    await source.open()
    try:
        (delivery,), _ = await _take(source, 1)
        assert len(await box.search("ALL")) == 1
        await delivery.ack()
        assert await box.search("ALL") == []
        assert len(await box.search("ALL", mailbox="Processed")) == 1
    finally:
        await source.close()


async def test_delete_expunges_the_email_after_the_ack(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.append(mail("to delete"))
    await box.append(mail("to keep"))
    source = _source(server, tmp_path, on_success="delete", batch=1)
    await source.open()
    try:
        (delivery,), _ = await _take(source, 1)
        assert delivery.message.headers["email.subject"] == "to delete"
        await delivery.ack()
        remaining = await box.search("ALL")
        assert len(remaining) == 1
        assert "Deleted" not in await box.flags(remaining[0])
    finally:
        await source.close()


async def test_attachments_are_messages_and_the_email_is_settled_when_all_are_delivered(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    attachments = (
        ("orders-1.csv", "text/csv", CSV),
        ("terms.pdf", "application/pdf", b"%PDF-1.4"),
        ("orders-2.csv", "text/csv", b"sku,qty\nB-2,5\n"),
    )
    await box.append(mail("two files", attachments=attachments))
    source = _source(server, tmp_path, emit="attachments", attachment_pattern="*.csv")
    await source.open()
    try:
        taken, _ = await _take(source, 2)
        assert [d.message.headers["email.attachment"] for d in taken] == [
            "orders-1.csv",
            "orders-2.csv",
        ]
        assert taken[0].message.body_bytes() == CSV
        assert taken[0].message.content_type == "text/csv"
        assert taken[0].message.id != taken[1].message.id
        await taken[0].ack()
        assert len(await box.search("UNSEEN")) == 1, "one attachment is still in flight"
        await taken[1].ack()
        assert await box.search("UNSEEN") == []
    finally:
        await source.close()


async def test_text_emits_the_decoded_text_body(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.append(mail("note", text="Grüße aus Köln"))
    source = _source(server, tmp_path, emit="text")
    await source.open()
    try:
        (delivery,), _ = await _take(source, 1)
        assert delivery.message.body_bytes().decode().strip() == "Grüße aus Köln"
        assert delivery.message.content_type == "text/plain; charset=utf-8"
    finally:
        await source.close()


async def test_a_bad_email_is_flagged_and_set_aside_not_taken_forever(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.append(mail("no files here"))
    await box.append(mail("with file", attachments=(("a.csv", "text/csv", CSV),)))
    source = _source(server, tmp_path, emit="attachments")
    await source.open()
    try:
        (delivery,), _ = await _take(source, 1)
        assert delivery.message.headers["email.subject"] == "with file"
        await delivery.ack()
        flagged = await box.search("FLAGGED")
        assert len(flagged) == 1
        assert "\\Seen" in await box.flags(flagged[0])
        assert await box.search("UNSEEN") == []
    finally:
        await source.close()


async def test_a_bad_email_goes_to_failed_to_when_set(
    server: ImapServer, box: Mailbox, tmp_path: Path
) -> None:
    await box.create("Failed")
    await box.append(mail("too big", text="x" * 5000))
    await box.append(mail("small"))
    source = _source(server, tmp_path, max_bytes=2000, failed_to="Failed")
    await source.open()
    try:
        (delivery,), _ = await _take(source, 1)
        assert delivery.message.headers["email.subject"] == "small"
        assert len(await box.search("ALL", mailbox="Failed")) == 1
        assert len(await box.search("ALL")) == 1
    finally:
        await source.close()


async def test_a_refused_login_is_not_connected_and_never_shows_the_password(
    server: ImapServer, tmp_path: Path
) -> None:
    source = _source(server, tmp_path, password="wrong-secret-value")
    with pytest.raises(NotConnected) as caught:
        await source.open()
    assert "login to imap://127.0.0.1" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


async def test_an_unreachable_server_is_not_connected(tmp_path: Path) -> None:
    closed = ImapServer(port=1)
    source = _source(closed, tmp_path)
    with pytest.raises(NotConnected, match=re.escape("cannot connect to imap://127.0.0.1:1/INBOX")):
        await source.open()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"on_success": "move"}, "on_success: move needs move_to"),
        ({"search": "UNSEEN\r\nA1 DELETE INBOX"}, "search: "),
        ({"mailbox": 'IN"BOX'}, "mailbox: "),
        ({"password": "literal"}, "password"),
    ],
)
def test_config_mistakes_are_named(extra: dict[str, Any], message: str, tmp_path: Path) -> None:
    fields = {
        "host": "imap.example.com",
        "username": "orders@example.com",
        "password": "${env:HOME}",
        **extra,
    }
    flow = tmp_path / "mail.yaml"
    flow.write_text(
        "integration: mail\nsource:\n  imap: " + json.dumps(fields) + "\n"
        "sinks: {out: {file: {path: out}}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_flow(flow, project_dir=tmp_path, settings=ProjectSettings())
    assert "mail.yaml:3:" in str(caught.value)
    assert message in str(caught.value)
