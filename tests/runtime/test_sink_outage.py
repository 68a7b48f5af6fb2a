"""An HTTP receiver goes down mid-run: the breaker opens, the source waits, nothing is lost.

The receiver is a real HTTP server on loopback that stops listening (connections refused,
open ones cut) for a few seconds. No assertion is on timings: the test watches what happens
(breaker states, in-flight counts, inbox) until every message has arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from splice.runtime.breaker import Breakers
from splice.runtime.engine import Engine
from tests.runtime.engine_harness import eventually, files, start, write

MESSAGES = 300
MAX_IN_FLIGHT = 8
OUTAGE_SECONDS = 3.0


class Receiver:
    """A minimal HTTP/1.1 server that records each body; ``down()`` refuses connections."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await reader.readexactly(_content_length(head))
                self.bodies.append(body)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def project(root: Path, port: int) -> Path:
    return write(
        root,
        {
            "splice.yaml": f"runtime: {{max_in_flight: {MAX_IN_FLIGHT}}}\n",
            "flows/outage.yaml": f"""
                integration: outage
                source: {{file: {{path: inbox, poll_interval: 0.05}}}}
                sinks:
                  receiver: {{http: {{url: "http://127.0.0.1:{port}/in", timeout: 2s}}}}
                on_error:
                  retry: {{attempts: 1000, initial: 20ms, max: 100ms, max_elapsed: null}}
                  circuit_breaker: {{failures: 3, window: 10s, reset_after: 300ms}}
            """,
        },
    )


class Watch:
    """Samples the engine while it runs: breaker states, in-flight, files left in the inbox."""

    def __init__(self, engine: Engine, inbox: Path) -> None:
        self.engine = engine
        self.inbox = inbox
        self.states: set[str] = set()
        self.max_in_flight = 0
        self.inbox_while_open: list[int] = []

    async def run(self) -> None:
        breakers = self.engine.shared.get("breakers", Breakers)
        while True:
            states = {snapshot["state"] for snapshot in breakers.snapshots()}
            self.states |= states
            runner = self.engine.flows["outage"]
            self.max_in_flight = max(self.max_in_flight, runner.in_flight)
            if "open" in states:
                self.inbox_while_open.append(len(files(self.inbox)))
            await asyncio.sleep(0.01)


async def test_an_outage_opens_the_breaker_holds_the_source_and_loses_nothing(
    tmp_path: Path,
) -> None:
    receiver = Receiver()
    await receiver.up()
    root = project(tmp_path, receiver.port)
    inbox = root / "inbox"
    inbox.mkdir()
    for number in range(MESSAGES):
        (inbox / f"m{number:04d}.txt").write_text(f"message {number}")
    engine = await start(root)
    assert engine.store is not None
    watch = Watch(engine, inbox)
    watching = asyncio.create_task(watch.run())
    try:
        await eventually(lambda: len(receiver.bodies) >= MESSAGES // 10)
        await receiver.down()
        await eventually(lambda: "open" in watch.states)
        await asyncio.sleep(OUTAGE_SECONDS)
        await receiver.up()
        await eventually(lambda: len(set(receiver.bodies)) == MESSAGES, timeout=60)
        await eventually(lambda: len(files(inbox / "done")) == MESSAGES)
        dead_letters = await engine.store.dead_letters.count("outage")
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        await engine.stop()
        with contextlib.suppress(Exception):
            await receiver.down()

    assert dead_letters == 0
    assert {"open", "closed"} <= watch.states
    assert watch.max_in_flight <= MAX_IN_FLIGHT
    # While the breaker was open the source was held back: files stayed in the inbox.
    assert watch.inbox_while_open
    assert min(watch.inbox_while_open) > 0
    assert sorted(set(receiver.bodies)) == sorted(
        f"message {number}".encode() for number in range(MESSAGES)
    )
