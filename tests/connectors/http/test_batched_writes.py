"""Response writes batched per turn of the loop: one send per connection, nothing held past
the turn, nothing lost on close, order kept; and the real server answers through it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from http_harness import Harness

from splice.connectors.http.batched import MAX_HELD_BYTES, BatchedTransport, WriteBatch


class _Sent(asyncio.Transport):
    """The far side of the wrapper: records each send, as the socket would see it."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        assert not self.closed, "written after close"
        self.sends.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0  # each send leaves at once


async def _next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_header_and_body_written_in_one_turn_leave_in_one_send() -> None:
    batch = WriteBatch(asyncio.get_running_loop())
    sent = _Sent()
    transport = BatchedTransport(sent, batch)
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"ok")
    assert sent.sends == []
    assert transport.get_write_buffer_size() == 40
    await _next_turn()
    assert sent.sends == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    assert transport.get_write_buffer_size() == 0


async def test_each_connection_sends_its_own_bytes_in_order() -> None:
    batch = WriteBatch(asyncio.get_running_loop())
    first, second = _Sent(), _Sent()
    a, b = BatchedTransport(first, batch), BatchedTransport(second, batch)
    a.write(b"a1")
    b.write(b"b1")
    a.write(b"a2")
    await _next_turn()
    assert (first.sends, second.sends) == ([b"a1a2"], [b"b1"])
    a.write(b"a3")  # a later turn: a later send
    await _next_turn()
    assert first.sends == [b"a1a2", b"a3"]


async def test_close_sends_what_is_held_first() -> None:
    sent = _Sent()
    transport = BatchedTransport(sent, WriteBatch(asyncio.get_running_loop()))
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert sent.sends == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]
    assert sent.closed
    await _next_turn()  # the turn's flush finds nothing more to send
    assert len(sent.sends) == 1


async def test_bytes_held_for_a_connection_closed_by_the_peer_are_dropped() -> None:
    sent = _Sent()
    transport = BatchedTransport(sent, WriteBatch(asyncio.get_running_loop()))
    transport.write(b"late reply")
    sent.closed = True  # the client went away during the turn
    await _next_turn()
    assert sent.sends == []


async def test_a_large_write_is_sent_at_once() -> None:
    sent = _Sent()
    transport = BatchedTransport(sent, WriteBatch(asyncio.get_running_loop()))
    transport.write(b"head")
    transport.write(b"x" * MAX_HELD_BYTES)
    assert sent.sends == [b"head" + b"x" * MAX_HELD_BYTES]
    assert transport.get_write_buffer_size() == 0


async def test_abort_drops_what_is_held() -> None:
    aborted: list[bool] = []

    class _Abortable(_Sent):
        def abort(self) -> None:
            aborted.append(True)
            self.closed = True

    sent = _Abortable()
    transport = BatchedTransport(sent, WriteBatch(asyncio.get_running_loop()))
    transport.write(b"never sent")
    transport.abort()
    await _next_turn()
    assert (sent.sends, aborted) == ([], [True])


async def test_pipelined_requests_on_one_connection_get_their_replies_in_order(
    harness: Harness,
) -> None:
    harness.pull(await harness.source(reply="sync"))
    requests = b"".join(
        b"POST /orders HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
        for body in (b"first", b"second", b"third")
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", harness.server.port)
    try:
        writer.write(requests)
        await writer.drain()
        replies = b""
        while replies.count(b"HTTP/1.1 200") < 3 or not replies.endswith(b"third"):
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            assert chunk, f"connection closed after {replies!r}"
            replies += chunk
    finally:
        writer.close()
        await writer.wait_closed()
    bodies = [part.rpartition(b"\r\n\r\n")[2] for part in replies.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"first", b"second", b"third"]


async def test_concurrent_connections_each_get_their_own_reply(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    harness.pull(await harness.source(reply="sync"))
    bodies = [f"order-{i}".encode() for i in range(20)]
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(limits=limits) as many:
        replies = await asyncio.gather(
            *(many.post(harness.url("/orders"), content=body) for body in bodies)
        )
    assert [r.content for r in replies] == bodies
    assert all(r.status_code == 200 for r in replies)
