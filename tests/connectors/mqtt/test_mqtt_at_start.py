"""An MQTT broker down at start does not stop a flow; one that refuses the connection does.

The down broker is the real Mosquitto behind a relay the test opens only after the engine
started; the refusing one is a second Mosquitto the test starts with anonymous access off.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from mqtt_harness import require, sink, source, unique
from tests.relay import free_port, open_relay, own_server
from tests.runtime.engine_harness import eventually, files, start, write

from splice.connectors.mqtt._connection import ConnectRefused
from splice.errors import NotConnected

pytestmark = pytest.mark.service


async def test_a_flow_consumes_once_its_broker_is_up(tmp_path: Path) -> None:
    require("mqtt")
    port, topic = free_port(), unique("late")
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: late-mqtt\n",
            "flows/from-topic.yaml": f"""
                integration: from-topic
                description: Consume a topic into files.
                owner: tests
                source:
                  mqtt:
                    port: {port}
                    topics: [{topic}]
                    qos: 1
                    connect_timeout: 2
                    reconnect_initial: 0.1
                    reconnect_max: 0.5
                sinks:
                  out: {{file: {{path: out}}}}
            """,
        },
    )
    engine = await start(root)  # nothing listens on that port yet
    relay = await open_relay(port, 1883)
    try:
        source_ = engine.flows["from-topic"].source
        # subscribed once connected: a QoS 1 message published before that is not kept
        await eventually(lambda: getattr(source_, "_client", None) is not None, timeout=30)
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            await client.publish(topic, b"reading-1", qos=1)
        await eventually(lambda: len(files(root / "out")) == 1, timeout=30)
        [name] = files(root / "out")
        assert (root / "out" / name).read_bytes() == b"reading-1"
    finally:
        await engine.stop()
        relay.close()
        await relay.wait_closed()


@pytest.fixture
async def locked_broker(tmp_path: Path) -> AsyncIterator[int]:
    """A Mosquitto of the test's own that refuses anonymous clients; its port."""
    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto binary is not installed")
    port = free_port()
    config = tmp_path / "locked.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n")
    async with own_server("mosquitto", "-c", str(config), port=port):
        yield port


async def test_a_refused_connection_is_not_an_outage_and_stops_the_open(
    locked_broker: int, tmp_path: Path
) -> None:
    settings = {"port": locked_broker, "username": "who", "connect_timeout": 5}
    for component in (
        source(tmp_path, topics=["t"], **settings),
        sink(tmp_path, topic="t", **settings),
    ):
        with pytest.raises(ConnectRefused) as caught:
            await component.open()
        assert not isinstance(caught.value, NotConnected)
        assert caught.value.code == "mqtt-refused"
        assert "refused the connection" in str(caught.value)
        assert "Not authorized" in str(caught.value)
