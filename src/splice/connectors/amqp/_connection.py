"""What the AMQP source and sink share: connection settings, topology, property mapping.

aiormq is imported only inside functions, so validating a flow never imports it.

Headers and properties, both ways::

    Message.content_type       <->  content_type
    Message.correlation_id     <->  correlation_id
    Message.id                  ->  message_id        (the source reads it as amqp.message_id)
    headers["amqp.type"]       <->  type
    headers["amqp.app_id"]     <->  app_id
    other message headers      <->  the AMQP headers table (values as text)

The source adds ``amqp.exchange``, ``amqp.routing_key`` and ``amqp.redelivered``
(``"true"``/``"false"``). The sink never forwards a header whose name names a secret
(``authorization``, ``x-api-key``...) nor the ``amqp.*`` headers other than type and app_id.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, field_validator
from yarl import URL

from splice.components.spec import ComponentConfig
from splice.errors import ConnectorError, NotConnected
from splice.message import Message
from splice.secrets import is_secret_key
from splice.types import Duration

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel, AbstractConnection, DeliveredMessage
    from pamqp.commands import Basic

__all__ = [
    "AmqpConnectionConfig",
    "Binding",
    "Declare",
    "DeclareRefused",
    "ExchangeDeclaration",
    "HeaderFilter",
    "LoginRefused",
    "QueueDeclaration",
    "connect",
    "declare",
    "message_from",
    "properties_for",
    "safe_url",
]

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
PROPERTY_HEADERS = {"amqp.type": "message_type", "amqp.app_id": "app_id"}


class ExchangeDeclaration(ComponentConfig):
    name: str = Field(description="Exchange name.")
    type: Literal["direct", "fanout", "topic", "headers"] = Field(
        "direct", description="Exchange type."
    )
    durable: bool = Field(True, description="Survives a broker restart.")
    auto_delete: bool = Field(False, description="Deleted when its last binding goes.")


class QueueDeclaration(ComponentConfig):
    name: str = Field(description="Queue name.")
    durable: bool = Field(True, description="Survives a broker restart.")
    exclusive: bool = Field(False, description="Used by this connection only.")
    auto_delete: bool = Field(False, description="Deleted when its last consumer goes.")
    arguments: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Queue arguments, e.g. `x-queue-type: quorum`, `x-dead-letter-exchange`.",
    )


class Binding(ComponentConfig):
    queue: str = Field(description="Queue to bind.")
    exchange: str = Field(description="Exchange to bind it to.")
    routing_key: str = Field("", description="Binding key (topic patterns for topic exchanges).")


class Declare(ComponentConfig):
    exchanges: list[ExchangeDeclaration] = Field(default_factory=list)
    queues: list[QueueDeclaration] = Field(default_factory=list)
    bindings: list[Binding] = Field(default_factory=list)


class AmqpConnectionConfig(ComponentConfig):
    url: str = Field(
        DEFAULT_URL,
        description="Broker URL `amqp://` or `amqps://`; give a password by `${env:NAME}`.",
    )
    username: str | None = Field(None, description="User name (overrides the URL's).")
    password: SecretStr | None = Field(
        None, description="Password, by reference: `${env:NAME}` (overrides the URL's)."
    )
    declare: Declare = Field(
        default_factory=Declare, description="Exchanges, queues and bindings to declare on open."
    )
    connect_timeout: Duration = Field(10.0, gt=0, description="Longest wait to connect.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("amqp://", "amqps://")):
            raise ValueError("the url must start with amqp:// or amqps://")
        return value

    def full_url(self) -> URL:
        url = URL(self.url)
        if self.username is not None or self.password is not None:
            user = self.username if self.username is not None else url.user
            secret = self.password.get_secret_value() if self.password is not None else url.password
            url = url.with_user(user).with_password(secret)
        return url


class DeclareRefused(ConnectorError):
    """The broker refused the declared topology (a queue already there with other
    arguments, say): a setting to put right, not an outage; a start stops on it."""

    code = "amqp-declare"


class LoginRefused(ConnectorError):
    """The broker refused the login (credentials, virtual host): a setting to put right,
    not an outage; a start stops on it."""

    code = "amqp-login"


def safe_url(config: AmqpConnectionConfig) -> str:
    """The broker address without credentials, for messages and logs."""
    url = URL(config.url)
    return str(url.with_user(None).with_query(None))


async def connect(
    config: AmqpConnectionConfig, *, confirms: bool, prefetch: int | None = None
) -> tuple[AbstractConnection, AbstractChannel]:
    """An open connection and channel with the topology declared; NotConnected when the
    broker cannot be reached, :class:`LoginRefused` or :class:`DeclareRefused` when it
    refuses the login or the topology."""
    import asyncio

    import aiormq

    from splice.connectors.amqp._transport import FRAMES, new_connection

    errors = aiormq.exceptions
    refused = (
        errors.ChannelPreconditionFailed,
        errors.ChannelAccessRefused,
        errors.ChannelNotFoundEntity,
        errors.ChannelLockedResource,
    )
    connection = new_connection(config.full_url())
    try:
        async with asyncio.timeout(config.connect_timeout):
            await connection.connect()
            channel = await connection.channel(
                publisher_confirms=confirms, frame_buffer_size=FRAMES
            )
            if prefetch is not None:
                await channel.basic_qos(prefetch_count=prefetch)
            await declare(channel, config.declare)
    except errors.ProbableAuthenticationError as exc:  # before OSError: it is one
        await connection.close()
        raise LoginRefused(
            f"the AMQP broker at {safe_url(config)} refused the login (username, password "
            f"or virtual host): {describe(exc)}"
        ) from exc
    except refused as exc:  # reached, but what was asked of it is wrong
        await connection.close()
        raise DeclareRefused(
            f"the AMQP broker at {safe_url(config)} refused the declared topology "
            f"(declare): {describe(exc)}"
        ) from exc
    except (aiormq.exceptions.AMQPError, OSError, RuntimeError, TimeoutError) as exc:
        await connection.close()
        raise NotConnected(
            f"cannot reach the AMQP broker at {safe_url(config)}: {describe(exc)}",
            code="amqp-connect",
        ) from exc
    except BaseException:
        await connection.close()
        raise
    return connection, channel


async def declare(channel: AbstractChannel, topology: Declare) -> None:
    for exchange in topology.exchanges:
        await channel.exchange_declare(
            exchange=exchange.name,
            exchange_type=exchange.type,
            durable=exchange.durable,
            auto_delete=exchange.auto_delete,
        )
    for queue in topology.queues:
        await channel.queue_declare(
            queue.name,
            durable=queue.durable,
            exclusive=queue.exclusive,
            auto_delete=queue.auto_delete,
            arguments=dict(queue.arguments),
        )
    for binding in topology.bindings:
        await channel.queue_bind(binding.queue, binding.exchange, routing_key=binding.routing_key)


def describe(error: BaseException) -> str:
    """A one-line description of a library error (no credentials: URLs are not echoed)."""
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if text != type(error).__name__ else text


def properties_for(
    message: Message,
    *,
    persistent: bool,
    content_type: str | None,
    defaults: dict[str, str],
    forward: Callable[[str], bool],
) -> Basic.Properties:
    """AMQP properties for an outgoing message (see the module docstring).

    ``forward`` says whether a message header is sent as an AMQP header (a HeaderFilter).
    """
    from pamqp.commands import Basic

    headers: dict[str, Any] = {}
    extra = dict(defaults)
    for name, value in message.headers.items():
        if name in PROPERTY_HEADERS:
            extra[PROPERTY_HEADERS[name]] = value
        elif forward(name):
            headers[name] = value
    return Basic.Properties(
        content_type=content_type,
        delivery_mode=2 if persistent else 1,
        correlation_id=message.correlation_id,
        message_id=message.id,
        headers=headers or None,
        message_type=extra.get("message_type"),
        app_id=extra.get("app_id"),
    )


class HeaderFilter:
    """Whether a message header is sent as an AMQP header: it matches one of ``patterns``
    (globs), is not ``amqp.*`` and does not name a secret. Answers are kept per name."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._known: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        known = self._known.get(name)
        if known is None:
            known = _forwarded(name, self.patterns)
            if len(self._known) < 4096:  # header names are few; a flood of new ones is not kept
                self._known[name] = known
        return known


def _forwarded(name: str, patterns: Sequence[str]) -> bool:
    if name.startswith("amqp.") or is_secret_key(name):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def message_from(delivered: DeliveredMessage) -> Message:
    """A splice message for a delivered AMQP message (see the module docstring)."""
    properties = delivered.header.properties
    headers = {name: _text(value) for name, value in (properties.headers or {}).items()}
    deliver = delivered.delivery
    headers["amqp.exchange"] = delivered.exchange or ""
    headers["amqp.routing_key"] = delivered.routing_key or ""
    headers["amqp.redelivered"] = "true" if getattr(deliver, "redelivered", False) else "false"
    if properties.message_id:
        headers["amqp.message_id"] = properties.message_id
    if properties.message_type:
        headers["amqp.type"] = properties.message_type
    if properties.app_id:
        headers["amqp.app_id"] = properties.app_id
    return Message(
        delivered.body,
        headers,
        properties.content_type,
        correlation_id=properties.correlation_id or "",
    )


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
