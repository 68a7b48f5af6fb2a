"""The HTTP sink against a real Starlette app served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splice.components.context import Context
from splice.connectors.http.sink import SPEC, HttpSink, parse_retry_after
from splice.errors import NotConnected, PermanentError, TransientError
from splice.message import Message

MakeSink = Callable[..., Awaitable[HttpSink]]


class _Quiet(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Downstream:
    """What the test endpoint received."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.base = ""


def _app(record: Downstream) -> Starlette:
    async def ok(request: Request) -> Response:
        record.requests.append((await request.body(), dict(request.headers)))
        return Response(b'{"saved":true}', status_code=201, media_type="application/json")

    async def status(request: Request) -> Response:
        headers = {}
        if "retry_after" in request.query_params:
            headers["retry-after"] = request.query_params["retry_after"]
        code = int(request.path_params["code"])
        return Response(b"no such order\x00\n  " + b"y" * 1000, status_code=code, headers=headers)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1)
        return Response(b"late")

    return Starlette(
        routes=[
            Route("/ok", ok, methods=["POST", "PUT"]),
            Route("/status/{code}", status, methods=["POST"]),
            Route("/slow", slow, methods=["POST"]),
        ]
    )


@pytest.fixture
async def downstream() -> AsyncIterator[Downstream]:
    record = Downstream()
    sock = socket.create_server(("127.0.0.1", 0))
    record.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(_app(record), lifespan="off", log_config=None, log_level="warning")
    server = _Quiet(config)
    task = asyncio.create_task(server.serve([sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield record
    server.should_exit = True
    await task


@pytest.fixture
async def make_sink(tmp_path: Path) -> AsyncIterator[MakeSink]:
    sinks: list[HttpSink] = []

    async def make(**config: Any) -> HttpSink:
        sink = SPEC.build(SPEC.parse(config), Context(tmp_path, "orders", component="sinks.erp"))
        assert isinstance(sink, HttpSink)
        await sink.open()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        await sink.close()
        await sink.close()  # safe twice


async def test_sends_body_and_configured_headers_only(
    downstream: Downstream, make_sink: MakeSink
) -> None:
    sink = await make_sink(url=f"{downstream.base}/ok", headers={"x-api-key": "k1"})
    message = Message(b"<o/>", headers={"secret": "no"}, content_type="application/xml")
    await sink.send(message)
    body, headers = downstream.requests[0]
    assert body == b"<o/>"
    assert headers["content-type"] == "application/xml"
    assert headers["x-api-key"] == "k1"
    assert headers["x-message-id"] == message.id
    assert headers["x-correlation-id"] == message.correlation_id
    assert "secret" not in headers


async def test_decoded_data_is_sent_as_json(downstream: Downstream, make_sink: MakeSink) -> None:
    sink = await make_sink(url=f"{downstream.base}/ok", method="put")
    await sink.send(Message({"orderId": 7}))
    body, headers = downstream.requests[0]
    assert body == b'{"orderId":7}'
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("code", [429, 503])
async def test_retryable_status_with_retry_after_seconds_is_transient(
    downstream: Downstream,
    make_sink: MakeSink,
    code: int,
) -> None:
    sink = await make_sink(url=f"{downstream.base}/status/{code}?retry_after=7")
    with pytest.raises(TransientError) as caught:
        await sink.send(Message(b"x"))
    assert caught.value.retry_after == 7.0
    assert str(code) in str(caught.value)


async def test_retry_after_as_http_date_is_understood(
    downstream: Downstream, make_sink: MakeSink
) -> None:
    when = email.utils.formatdate(time.time() + 60, usegmt=True)
    sink = await make_sink(url=f"{downstream.base}/status/503?retry_after={when}")
    with pytest.raises(TransientError) as caught:
        await sink.send(Message(b"x"))
    assert caught.value.retry_after is not None
    assert 55 <= caught.value.retry_after <= 60


@pytest.mark.parametrize("code", [400, 404, 501])
async def test_other_failure_statuses_are_permanent_with_a_short_excerpt(
    downstream: Downstream,
    make_sink: MakeSink,
    code: int,
) -> None:
    sink = await make_sink(url=f"{downstream.base}/status/{code}")
    with pytest.raises(PermanentError) as caught:
        await sink.send(Message(b"x"))
    assert caught.value.status == code
    assert "no such order" in str(caught.value)
    assert "\x00" not in str(caught.value)
    assert len(str(caught.value)) < 300


async def test_configured_success_statuses_are_accepted(
    downstream: Downstream, make_sink: MakeSink
) -> None:
    sink = await make_sink(url=f"{downstream.base}/status/409", success=["2xx", 409])
    await sink.send(Message(b"x"))


async def test_timeout_is_transient(downstream: Downstream, make_sink: MakeSink) -> None:
    sink = await make_sink(url=f"{downstream.base}/slow", timeout="200ms")
    with pytest.raises(TransientError, match="did not answer") as caught:
        await sink.send(Message(b"x"))
    assert caught.value.__cause__ is not None


async def test_connection_refused_is_transient(make_sink: MakeSink) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    sink = await make_sink(url=f"http://user:pw@127.0.0.1:{port}/orders?token=t")
    with pytest.raises(TransientError, match="unreachable") as caught:
        await sink.send(Message(b"x"))
    assert "pw" not in str(caught.value)
    assert "token" not in str(caught.value)


async def test_send_before_open_is_not_connected(tmp_path: Path) -> None:
    sink = HttpSink(SPEC.parse({"url": "http://127.0.0.1:1/"}), Context(tmp_path, "f"))  # type: ignore[arg-type]
    with pytest.raises(NotConnected):
        await sink.send(Message(b"x"))


@pytest.mark.parametrize(
    "raw",
    [
        {"url": "ftp://x"},
        {"url": "http://x", "method": "GET"},
        {"url": "http://x", "success": ["2x"]},
    ],
)
def test_invalid_config_is_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's ValidationError
        SPEC.parse(raw)


def test_retry_after_values() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
