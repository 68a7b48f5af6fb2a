"""A NATS server down at start does not stop a flow; one that refuses the credentials does.

The down server is the real NATS behind a relay the test opens only after the engine
started; the refusing one is a second nats-server the test starts with a user and password.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats_harness import URL, require
from tests.relay import free_port, open_relay, own_server
from tests.runtime.engine_harness import eventually, files, start, write

from splice.components.context import Context
from splice.connectors.nats import NatsSink, NatsSinkConfig, NatsSource, NatsSourceConfig
from splice.connectors.nats._connection import ConnectRefused
from splice.errors import NotConnected

pytestmark = pytest.mark.service


async def test_a_flow_consumes_once_its_server_is_up(tmp_path: Path, unique: str) -> None:
    require("nats")
    import nats

    port, subject = free_port(), f"late.{unique}"
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: late-nats\n",
            "flows/from-subject.yaml": f"""
                integration: from-subject
                description: Receive a subject into files.
                owner: tests
                source:
                  nats:
                    url: nats://127.0.0.1:{port}
                    subject: {subject}
                    connect_timeout: 1
                    reconnect_initial: 0.1
                    reconnect_max: 0.5
                sinks:
                  out: {{file: {{path: out}}}}
            """,
        },
    )
    engine = await start(root)  # nothing listens on that port yet
    relay = await open_relay(port, 4222)
    try:
        source = engine.flows["from-subject"].source
        # core NATS keeps nothing: publish only once the source has subscribed
        await eventually(lambda: getattr(source, "_client", None) is not None, timeout=30)
        client = await nats.connect(URL)
        await client.publish(subject, b"event-1")
        await client.flush()
        await client.close()
        await eventually(lambda: len(files(root / "out")) == 1, timeout=30)
        [name] = files(root / "out")
        assert (root / "out" / name).read_bytes() == b"event-1"
    finally:
        await engine.stop()
        relay.close()
        await relay.wait_closed()


async def test_an_unreachable_server_names_the_cause(context: Context) -> None:
    out = NatsSink(
        NatsSinkConfig(url="nats://127.0.0.1:1", subject="x", connect_timeout=0.5), context
    )
    with pytest.raises(NotConnected) as caught:
        await out.open()
    assert caught.value.code == "nats-connect"
    assert "127.0.0.1:1" in str(caught.value)
    assert "no servers available" not in str(caught.value)  # the cause, not nats-py's summary


@pytest.fixture
async def locked_server() -> AsyncIterator[int]:
    """A nats-server of the test's own that wants a user and password; its port."""
    if shutil.which("nats-server") is None:
        pytest.skip("the nats-server binary is not installed")
    port = free_port()
    command = ("-a", "127.0.0.1", "-p", str(port), "--user", "splice", "--pass", "right")
    async with own_server("nats-server", *command, port=port):
        yield port


async def test_refused_credentials_are_not_an_outage_and_stop_the_open(
    locked_server: int, context: Context
) -> None:
    settings = {
        "url": f"nats://127.0.0.1:{locked_server}",
        "user": "splice",
        "password": "wrong",
        "connect_timeout": 2,
    }
    components = (
        NatsSource(NatsSourceConfig.model_validate({**settings, "subject": "x"}), context),
        NatsSink(NatsSinkConfig.model_validate({**settings, "subject": "x"}), context),
    )
    for component in components:
        with pytest.raises(ConnectRefused) as caught:
            await component.open()
        assert not isinstance(caught.value, NotConnected)
        assert caught.value.code == "nats-refused"
        assert "Authorization Violation" in str(caught.value)
        assert "wrong" not in str(caught.value)


async def test_a_server_that_never_answers_is_named_with_the_timeout(context: Context) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts, never speaks NATS

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        out = NatsSink(
            NatsSinkConfig(url=f"nats://127.0.0.1:{port}", subject="x", connect_timeout=0.3),
            context,
        )
        with pytest.raises(NotConnected) as caught:
            await out.open()
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    message = str(caught.value)
    assert caught.value.code == "nats-connect"
    assert not message.endswith(": "), message  # an error without text is named by its type
