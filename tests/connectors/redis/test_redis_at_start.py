"""A Redis server down at start does not stop a flow; one that refuses the password does.

The down server is the real Redis behind a relay the test opens only after the engine
started; the refusing one is a second redis-server the test starts with a password.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis_harness import URL
from tests.relay import free_port, open_relay, own_server
from tests.runtime.engine_harness import eventually, files, start, write

from splice.components.context import Context
from splice.connectors.redis import RedisSink, RedisSinkConfig, RedisSource, RedisSourceConfig
from splice.connectors.redis._client import ConnectRefused
from splice.errors import NotConnected

pytestmark = pytest.mark.service


async def test_a_flow_reads_once_its_server_is_up(stream: str, tmp_path: Path) -> None:
    from redis.asyncio import Redis

    port = free_port()
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: late-redis\n",
            "flows/from-stream.yaml": f"""
                integration: from-stream
                description: Read a stream into files.
                owner: tests
                source:
                  redis:
                    url: redis://127.0.0.1:{port}/0
                    stream: {stream}
                    group: loaders
                    start: "0"
                    block: 100ms
                    reconnect_initial: 0.1
                    reconnect_max: 0.5
                sinks:
                  out: {{file: {{path: out}}}}
            """,
        },
    )
    client = Redis.from_url(URL)
    await client.xadd(stream, {"body": b"entry-1"})  # waiting before the source is up
    await client.aclose()
    engine = await start(root)  # nothing listens on that port yet
    relay = await open_relay(port, 6379)
    try:
        await eventually(lambda: len(files(root / "out")) == 1, timeout=30)
        [name] = files(root / "out")
        assert (root / "out" / name).read_bytes() == b"entry-1"
    finally:
        await engine.stop()
        relay.close()
        await relay.wait_closed()


async def test_an_unreachable_server_is_redis_connect(tmp_path: Path) -> None:
    out = RedisSink(
        RedisSinkConfig(url="redis://127.0.0.1:1/0", stream="x"), Context(tmp_path, "t")
    )
    with pytest.raises(NotConnected) as caught:
        await out.open()
    assert caught.value.code == "redis-connect"


@pytest.fixture
async def locked_server(tmp_path: Path) -> AsyncIterator[int]:
    """A redis-server of the test's own that wants a password; its port."""
    if shutil.which("redis-server") is None:
        pytest.skip("the redis-server binary is not installed")
    port = free_port()
    command = ("--port", str(port), "--bind", "127.0.0.1", "--requirepass", "right")
    persistence = ("--save", "", "--appendonly", "no", "--dir", str(tmp_path))
    async with own_server("redis-server", *command, *persistence, port=port):
        yield port


async def test_a_refused_password_is_not_an_outage_and_stops_the_open(
    locked_server: int, tmp_path: Path
) -> None:
    settings = {"url": f"redis://127.0.0.1:{locked_server}/0", "password": "wrong", "stream": "s"}
    context = Context(tmp_path, "t")
    components = (
        RedisSource(RedisSourceConfig.model_validate({**settings, "group": "g"}), context),
        RedisSink(RedisSinkConfig.model_validate(settings), context),
    )
    for component in components:
        with pytest.raises(ConnectRefused) as caught:
            await component.open()
        assert not isinstance(caught.value, NotConnected)
        assert caught.value.code == "redis-refused"
        assert "refused the connection" in str(caught.value)
        assert "wrong" not in str(caught.value)
