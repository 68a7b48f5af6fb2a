"""What the Redis source and sink share: the connection settings, the entry layout and
the translation of redis-py errors into the splice error tree.

An entry of a stream holds the message body under the field ``body`` and each message
header ``name`` under the field ``h:name``; other fields are ignored by the source.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import Field, SecretStr, field_validator

from splice.components.spec import ComponentConfig
from splice.errors import (
    ConnectorError,
    NotConnected,
    PermanentError,
    SpliceError,
    TransientError,
)
from splice.message import Message

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("splice.connectors.redis")

__all__ = [
    "BODY",
    "HEADER_PREFIX",
    "ConnectRefused",
    "RedisConnectionConfig",
    "connect",
    "to_fields",
    "translate",
]

BODY = "body"
HEADER_PREFIX = "h:"


class RedisConnectionConfig(ComponentConfig):
    url: str = Field(
        "redis://127.0.0.1:6379/0", description="`redis://` or `rediss://` URL, without password."
    )
    password: SecretStr | None = Field(None, description="Password, as `${env:NAME}`.")
    stream: str = Field(description="Stream key.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the url starts with redis://, rediss:// or unix://")
        return value


class ConnectRefused(ConnectorError):
    """The server answered and refused the password (or wants one): a setting to put
    right, not an outage; a start stops on it."""

    code = "redis-refused"


async def connect(config: RedisConnectionConfig) -> Redis:
    """A client whose server answered PING; ConnectRefused when it refused the password,
    NotConnected (``redis-connect``) when it could not be reached."""
    from redis.asyncio import Redis
    from redis.exceptions import AuthenticationError

    password = config.password.get_secret_value() if config.password else None
    client = Redis.from_url(config.url, password=password, socket_connect_timeout=5)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        where = _safe(config.url)
        if isinstance(exc, AuthenticationError):
            raise ConnectRefused(f"redis at {where} refused the connection: {exc}") from exc
        raise NotConnected(f"cannot reach redis at {where}: {exc}", code="redis-connect") from exc
    return client


def translate(exc: Exception, what: str) -> SpliceError:
    """A redis-py error as a splice error (``raise translate(exc, ...) from exc``)."""
    from redis import exceptions

    if isinstance(exc, SpliceError):
        return exc
    if isinstance(exc, exceptions.ConnectionError | exceptions.TimeoutError | OSError):
        return TransientError(f"{what}: {type(exc).__name__}: {exc}", code="redis")
    if isinstance(exc, exceptions.ResponseError):
        return PermanentError(f"{what}: {exc}", code="redis")
    return TransientError(f"{what}: {exc}", code="redis")


def to_fields(message: Message) -> dict[str, bytes | str]:
    if message.is_encoded or isinstance(message.body, str):
        body = message.body_bytes()
    else:
        body = orjson.dumps(message.body)
    fields: dict[str, bytes | str] = {BODY: body}
    for name, value in message.headers.items():
        fields[HEADER_PREFIX + name] = value
    return fields


def to_message(entry_id: bytes, fields: dict[Any, Any], stream: str) -> Message:
    headers: dict[str, str] = {}
    for key, value in fields.items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name.startswith(HEADER_PREFIX):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            headers[name[len(HEADER_PREFIX) :]] = text
    headers["redis.stream"] = stream
    headers["redis.id"] = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    body = fields.get(BODY.encode(), fields.get(BODY, b""))
    return Message(body=bytes(body), headers=headers)


def _safe(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('@')[-1]}"
