"""What the MQTT source and sink share: broker settings and opening a client.

aiomqtt (over paho-mqtt) is imported only inside functions, so validating a flow never
imports it. Only MQTT 3.1.1 is spoken.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr

from splice.components.spec import ComponentConfig
from splice.errors import ConnectorError, NotConnected
from splice.types import Duration

if TYPE_CHECKING:
    import aiomqtt

__all__ = [
    "ConnectRefused",
    "MqttConnectionConfig",
    "connect",
    "describe",
    "disconnect",
    "is_connected",
]

_REFUSALS = {1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}
"""CONNACK codes that a retry will not change: protocol version, client identifier, user
name or password, not authorised (MQTT 3.1.1's 1, 2, 4, 5, as paho-mqtt 2 gives them as
reason codes 0x84-0x87), banned, authentication method. Server unavailable or busy may."""


class ConnectRefused(ConnectorError):
    """The broker answered and refused the connection (credentials, client identifier): a
    setting to put right, not an outage; a start stops on it."""

    code = "mqtt-refused"


QoS = Literal[0, 1, 2]


class MqttConnectionConfig(ComponentConfig):
    host: str = Field("127.0.0.1", description="Broker host name.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port.")
    username: str | None = Field(None, description="User name.")
    password: SecretStr | None = Field(None, description="Password, by reference: `${env:NAME}`.")
    client_id: str | None = Field(
        None, description="Client identifier (needed for a persistent session); random if unset."
    )
    keepalive: int = Field(60, ge=5, description="Seconds between keepalive pings.")
    connect_timeout: Duration = Field(10.0, gt=0, description="Longest wait to connect.")

    @property
    def target(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


async def connect(
    config: MqttConnectionConfig, *, clean_session: bool = True, manual_ack: bool = False
) -> aiomqtt.Client:
    """A connected client; NotConnected when the broker cannot be reached, ConnectRefused
    when it refuses the connection."""
    import aiomqtt
    from aiomqtt.exceptions import MqttConnectError

    client = aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        identifier=config.client_id,
        clean_session=clean_session,
        keepalive=config.keepalive,
        timeout=config.connect_timeout,
    )
    client.pending_calls_threshold = 10_000  # concurrent sends are normal: no warning per call
    if manual_ack:
        # paho-mqtt holds back PUBACK (QoS 1) / PUBCOMP (QoS 2) until ack() is called;
        # aiomqtt does not expose the switch, so it is set on its paho client.
        client._client.manual_ack_set(True)
    try:
        async with asyncio.timeout(config.connect_timeout):
            await client.__aenter__()
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        if isinstance(exc, MqttConnectError) and getattr(exc.rc, "value", exc.rc) in _REFUSALS:
            raise ConnectRefused(
                f"the MQTT broker at {config.target} refused the connection: {describe(exc)}"
            ) from exc
        raise NotConnected(
            f"cannot reach the MQTT broker at {config.target}: {describe(exc)}",
            code="mqtt-connect",
        ) from exc
    return client


def is_connected(client: aiomqtt.Client) -> bool:
    disconnected: asyncio.Future[None] = client._disconnected
    return not disconnected.done()


def disconnected(client: aiomqtt.Client) -> asyncio.Future[None]:
    """Resolves (possibly with an error) when the client loses its connection."""
    future: asyncio.Future[None] = client._disconnected
    return future


async def disconnect(client: aiomqtt.Client) -> None:
    """Disconnect, whether or not the connection is still up; never raises."""
    import aiomqtt

    lost = disconnected(client)
    if lost.done() and not lost.cancelled():
        lost.exception()  # retrieved: the loss was already reported
    with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
        await client.__aexit__(None, None, None)


def describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if text != type(error).__name__ else text
