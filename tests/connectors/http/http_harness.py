"""Test helpers for the HTTP connector: a context with a port-0 server, sources, a puller."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.http.server import HttpServer
from splice.connectors.http.source import SPEC, HttpSource
from splice.settings import HttpSettings, ProjectSettings

Settle = Callable[[Delivery], Awaitable[None]]


async def ack_with_input(delivery: Delivery) -> None:
    await delivery.ack([delivery.message])


class Puller:
    """Plays the runtime: pulls deliveries, accepts journaled ones, settles each with ``settle``."""

    def __init__(self, source: HttpSource, settle: Settle = ack_with_input) -> None:
        self.source = source
        self.settle = settle
        self.pulled: list[Delivery] = []
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for delivery in self.source.deliveries():
            self.pulled.append(delivery)
            if delivery.needs_journal:
                await delivery.accept()
            await self.settle(delivery)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def finished(self) -> None:
        await asyncio.wait_for(self._task, 5)


class Harness:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.sources: list[HttpSource] = []
        self.pullers: list[Puller] = []

    @property
    def server(self) -> HttpServer:
        server = self.context.shared.peek("http.server")
        assert isinstance(server, HttpServer)
        return server

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{path}"

    async def source(self, flow: str = "orders", **config: Any) -> HttpSource:
        config.setdefault("path", "/orders")
        source = SPEC.build(SPEC.parse(config), self.context_for(flow))
        assert isinstance(source, HttpSource)
        await source.open()
        self.sources.append(source)
        return source

    def context_for(self, flow: str) -> Context:
        ctx = self.context
        return Context(ctx.project_dir, flow, ctx.settings, ctx.shared, "source")

    def pull(self, source: HttpSource, settle: Settle = ack_with_input) -> Puller:
        puller = Puller(source, settle)
        self.pullers.append(puller)
        return puller

    async def aclose(self) -> None:
        for source in self.sources:
            await source.close()
        for puller in self.pullers:
            await puller.stop()
        server = self.context.shared.peek("http.server")
        if server is not None:
            await server.stop()


def make_context(tmp_path: Path, **http: Any) -> Context:
    http.setdefault("port", 0)
    http.setdefault("reply_timeout", 5)
    settings = ProjectSettings(http=HttpSettings(**http))
    return Context(project_dir=tmp_path, flow="orders", settings=settings)
