"""The email sink against a real SMTP server (aiosmtpd on loopback): delivery and failures."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from smtp_harness import Capture, SmtpServer, build

from splice.connectors.email.sink import EmailSink
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer(Capture()) as running:
        yield running


async def opened(tmp_path: Path, server: SmtpServer, **raw: Any) -> EmailSink:
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "from": "splice@example.com",
        "to": ["ops@example.com"],
        **raw,
    }
    sink = build(tmp_path, **config)
    await sink.open()
    return sink


async def test_a_message_is_delivered_as_text(tmp_path: Path, server: SmtpServer) -> None:
    sink = await opened(tmp_path, server)
    message = Message(body=b"hello\nworld", content_type="text/plain")
    await sink.send(message)
    await sink.close()
    [got] = server.handler.received
    assert got.sender == "splice@example.com"
    assert got.recipients == ["ops@example.com"]
    assert got.mail["From"] == "splice@example.com"
    assert got.mail["Subject"] == message.id
    assert got.mail["X-Splice-Message-Id"] == message.id
    body = got.mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n").rstrip("\n") == "hello\nworld"


async def test_data_is_sent_as_json(tmp_path: Path, server: SmtpServer) -> None:
    sink = await opened(tmp_path, server)
    await sink.send(Message(body={"orderId": "A-1"}))
    await sink.close()
    body = server.handler.received[0].mail.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == '{"orderId":"A-1"}'


async def test_the_subject_template_uses_headers_and_id(tmp_path: Path, server: SmtpServer) -> None:
    sink = await opened(
        tmp_path, server, subject="Order {headers[order_id]} ({id}) {{x}} {headers[none]}!"
    )
    message = Message(body=b"x", headers={"order_id": "A-7\r\nBcc: evil@example.org"})
    await sink.send(message)
    await sink.close()
    [got] = server.handler.received
    assert got.mail["Subject"] == f"Order A-7 Bcc: evil@example.org ({message.id}) {{x}} !"
    assert got.mail["Bcc"] is None
    assert got.recipients == ["ops@example.com"]


async def test_the_body_as_an_attachment(tmp_path: Path, server: SmtpServer) -> None:
    sink = await opened(
        tmp_path,
        server,
        attach=True,
        filename="order-{headers[order_id]}.csv",
        text="Order {headers[order_id]} attached.",
    )
    data = b"sku;qty\nX;2\n"
    await sink.send(Message(body=data, content_type="text/csv", headers={"order_id": "A-1"}))
    await sink.close()
    mail = server.handler.received[0].mail
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "order-A-1.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == data
    text = mail.get_body(("plain",))
    assert text is not None
    assert text.get_content().strip() == "Order A-1 attached."


async def test_a_binary_attachment_keeps_its_bytes(tmp_path: Path, server: SmtpServer) -> None:
    sink = await opened(tmp_path, server, attach=True, filename="../../etc/{id}.bin")
    data = bytes(range(256))
    message = Message(body=data)
    await sink.send(message)
    await sink.close()
    [attachment] = list(server.handler.received[0].mail.iter_attachments())
    assert attachment.get_payload(decode=True) == data
    assert attachment.get_content_type() == "application/octet-stream"
    assert "/" not in (attachment.get_filename() or "/")


async def test_recipients_from_a_header_within_the_allowlist(
    tmp_path: Path, server: SmtpServer
) -> None:
    sink = await opened(
        tmp_path, server, to=[], to_header="notify", allow_domains=["Partner.example"]
    )
    await sink.send(
        Message(body=b"x", headers={"notify": "a@partner.example, Bee <b@PARTNER.example>"})
    )
    await sink.close()
    assert server.handler.received[0].recipients == ["a@partner.example", "b@PARTNER.example"]


@pytest.mark.parametrize(
    "value",
    [
        "a@partner.example, x@evil.example",
        "x@partner.example.evil.example",
        "x@evil.example?@partner.example",
        "a@partner.example\r\nRCPT TO:<x@evil.example>",
        "",
    ],
)
async def test_recipients_outside_the_allowlist_are_refused(
    tmp_path: Path, server: SmtpServer, value: str
) -> None:
    sink = await opened(
        tmp_path, server, to=[], to_header="notify", allow_domains=["partner.example"]
    )
    headers = {"notify": value} if value else {}
    with pytest.raises(MessageError):
        await sink.send(Message(body=b"x", headers=headers))
    await sink.close()
    assert server.handler.received == []


@pytest.mark.parametrize(
    ("where", "reply", "error"),
    [
        ("rcpt", "450 4.2.1 Mailbox busy, try later", TransientError),
        ("rcpt", "550 5.1.1 No such user", PermanentError),
        ("data", "451 4.3.0 Greylisted, come back later", TransientError),
        ("data", "554 5.7.1 Rejected by policy", PermanentError),
    ],
)
async def test_smtp_replies_are_classified(
    tmp_path: Path, server: SmtpServer, where: str, reply: str, error: type[Exception]
) -> None:
    if where == "rcpt":
        server.handler.rcpt_reply = reply
    else:
        server.handler.data_reply = reply
    sink = await opened(tmp_path, server)
    with pytest.raises(error) as raised:
        await sink.send(Message(body=b"x"))
    await sink.close()
    assert reply[:3] in str(raised.value)
    if isinstance(raised.value, PermanentError):
        assert raised.value.status == int(reply[:3])


async def test_connection_refused_is_transient(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        sink = build(
            tmp_path, host="127.0.0.1", port=port, to=["a@example.com"], **{"from": "s@example.com"}
        )
        await sink.open()
        with pytest.raises(TransientError):
            await sink.send(Message(body=b"x"))
        await sink.close()


async def test_send_before_open_is_not_connected(tmp_path: Path) -> None:
    sink = build(tmp_path, host="127.0.0.1", to=["a@example.com"], **{"from": "s@example.com"})
    with pytest.raises(NotConnected):
        await sink.send(Message(body=b"x"))
    await sink.close()
    await sink.close()
