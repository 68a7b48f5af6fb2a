"""Helpers for the SOAP tests: corpus paths, an engine-like context, a puller, canned services."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import zeep
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.settings import HttpSettings, ProjectSettings

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora" / "soap"
STOCK_WSDL = CORPUS / "zeep" / "tests" / "wsdl_files" / "soap.wsdl"
SAMPLES = CORPUS / "node_soap" / "test" / "request-response-samples"
NODE_WSDLS = CORPUS / "node_soap" / "test" / "wsdl"
STOCK_BINDING = "{http://example.com/stockquote.wsdl}StockQuoteBinding"

Settle = Callable[[Delivery], Awaitable[None]]


def make_context(tmp_path: Path, **http: Any) -> Context:
    http.setdefault("port", 0)
    http.setdefault("reply_timeout", 5)
    return Context(tmp_path, "stock", ProjectSettings(http=HttpSettings(**http)))


def soap12_copy(wsdl: Path, target: Path) -> Path:
    """The same WSDL with a SOAP 1.2 binding."""
    text = wsdl.read_text().replace(
        "http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/"
    )
    target.write_text(text)
    return target


@contextlib.asynccontextmanager
async def pulling(source: Source, settle: Settle) -> AsyncIterator[list[Delivery]]:
    """Plays the runtime: every delivery is recorded and settled with ``settle``."""
    pulled: list[Delivery] = []

    async def run() -> None:
        async for delivery in source.deliveries():
            pulled.append(delivery)
            await settle(delivery)

    task = asyncio.create_task(run())
    try:
        yield pulled
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on a loopback port; yields its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve([sock]))
    while not server.started:
        await asyncio.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


class Canned:
    """An ASGI app answering every POST with one canned reply; it records the requests."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append((headers, body))
        raw = [(b"content-type", b"text/xml; charset=utf-8")]
        raw += [(k.encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


@contextlib.asynccontextmanager
async def zeep_client(wsdl: Path) -> AsyncIterator[zeep.AsyncClient]:
    """A real zeep AsyncClient over httpx, closed afterwards."""
    wsdl_client = httpx.Client()
    try:
        async with httpx.AsyncClient() as http:
            yield zeep.AsyncClient(
                str(wsdl), transport=AsyncTransport(http, wsdl_client=wsdl_client)
            )
    finally:
        await asyncio.to_thread(wsdl_client.close)


def async_service(client: zeep.AsyncClient, address: str) -> AsyncServiceProxy:
    """zeep's AsyncClient.create_service returns a synchronous proxy: build the async one."""
    return AsyncServiceProxy(client, client.wsdl.bindings[STOCK_BINDING], address=address)
