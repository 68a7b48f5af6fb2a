"""The shared HTTP server: built-in answers, body limits, route replacement, lifecycle."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from http_harness import Harness, make_context

from splice.components.interfaces import Delivery
from splice.connectors.http.server import RouteConflict
from splice.errors import NotConnected
from splice.message import Message


@pytest.fixture
async def small(tmp_path: Path):  # type: ignore[no-untyped-def]
    h = Harness(make_context(tmp_path, max_body_bytes=1000))
    yield h
    await h.aclose()


async def test_healthz_answers_ok(harness: Harness, client: httpx.AsyncClient) -> None:
    await harness.source()
    response = await client.get(harness.url("/healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_unknown_path_gives_404_problem(harness: Harness, client: httpx.AsyncClient) -> None:
    await harness.source()
    response = await client.post(harness.url("/nowhere"), content=b"x")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_wrong_method_gives_405_with_allow(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    await harness.source()
    await harness.source(method="put")
    response = await client.get(harness.url("/orders"))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"
    assert response.json()["status"] == 405


async def test_body_over_limit_gives_413(small: Harness, client: httpx.AsyncClient) -> None:
    small.pull(await small.source())
    response = await client.post(small.url("/orders"), content=b"x" * 1001)
    assert response.status_code == 413
    assert response.json()["code"] == "http-too-large"
    ok = await client.post(small.url("/orders"), content=b"x" * 1000)
    assert ok.status_code == 200


async def test_per_source_limit_overrides_the_server_limit(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    harness.pull(await harness.source(max_body_bytes=10))
    response = await client.post(harness.url("/orders"), content=b"x" * 11)
    assert response.status_code == 413


async def raw_exchange(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request head and part of a body, never finish it, read the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_declared_oversized_body_is_refused_before_it_is_sent(small: Harness) -> None:
    small.pull(await small.source())
    head = b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
    answer = await raw_exchange(small.server.port, head, b"x" * 100)
    assert answer.startswith(b"HTTP/1.1 413 ")


async def test_chunked_body_is_refused_as_soon_as_it_exceeds_the_limit(small: Harness) -> None:
    small.pull(await small.source())
    head = b"POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"258\r\n" + b"x" * 600 + b"\r\n" for _ in range(2))  # never terminated
    answer = await raw_exchange(small.server.port, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")


async def test_chunked_body_over_limit_via_httpx_gives_413(
    small: Harness, client: httpx.AsyncClient
) -> None:
    small.pull(await small.source())

    async def body():  # type: ignore[no-untyped-def]
        for _ in range(3):
            yield b"x" * 400

    response = await client.post(small.url("/orders"), content=body())
    assert response.status_code == 413


def reply(text: bytes):  # type: ignore[no-untyped-def]
    async def settle(delivery: Delivery) -> None:
        await delivery.ack([Message(text)])

    return settle


async def test_reload_replaces_the_route_without_failing_a_request(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    old = await harness.source()
    harness.pull(old, reply(b"old"))
    answers: list[httpx.Response] = []
    stop = asyncio.Event()

    async def load() -> None:
        while not stop.is_set():
            answers.append(await client.post(harness.url("/orders"), content=b"x"))

    workers = [asyncio.create_task(load()) for _ in range(4)]
    await asyncio.sleep(0.2)
    new = await harness.source()
    harness.pull(new, reply(b"new"))
    await asyncio.sleep(0.1)
    await old.close()
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*workers)
    assert all(a.status_code == 200 for a in answers), {a.status_code for a in answers}
    assert {a.content for a in answers} == {b"old", b"new"}
    assert answers[-1].content == b"new"


async def test_requests_waiting_on_the_old_version_go_to_the_new_one(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    old = await harness.source()
    waiting = asyncio.create_task(client.post(harness.url("/orders"), content=b"x"))
    await asyncio.sleep(0.2)
    new = await harness.source()
    await old.close()
    harness.pull(new, reply(b"new"))
    response = await asyncio.wait_for(waiting, 5)
    assert response.status_code == 200
    assert response.content == b"new"


async def test_another_flow_cannot_take_a_route(harness: Harness) -> None:
    await harness.source(flow="orders")
    with pytest.raises(RouteConflict, match="orders"):
        await harness.source(flow="invoices")


async def test_server_stops_when_the_last_source_closes_and_restarts(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    first = await harness.source()
    second = await harness.source(path="/invoices")
    server = harness.server
    port = server.port
    await first.close()
    assert (await client.get(harness.url("/healthz"))).status_code == 200
    await second.close()
    for _ in range(50):
        if not server.running:
            break
        await asyncio.sleep(0.05)
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/healthz")
    again = await harness.source()
    harness.pull(again)
    assert (await client.post(harness.url("/orders"), content=b"x")).status_code == 200


async def test_port_in_use_is_not_connected_and_leaves_no_route(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        h = Harness(make_context(tmp_path, port=taken.getsockname()[1]))
        with pytest.raises(NotConnected, match="cannot listen"):
            await h.source()
        assert h.server._routes == {}
        await h.aclose()


def test_a_reserved_port_takes_reuse_port_listeners_and_refuses_a_second_reservation() -> None:
    from splice.connectors.http.server import listen, reserve

    held = reserve("127.0.0.1", 0)
    port = held.getsockname()[1]
    worker = listen("127.0.0.1", port, reuse_port=True)  # what each worker does
    try:
        with pytest.raises(NotConnected, match=f"cannot listen on 127.0.0.1:{port}"):
            reserve("127.0.0.1", port)  # another splice run --workers on the same port
        with pytest.raises(NotConnected):
            listen("127.0.0.1", port)  # or any other server
        worker.settimeout(5)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = worker.accept()  # the worker's socket takes it: the reservation
            accepted.close()  # does not listen
    finally:
        worker.close()
        held.close()
