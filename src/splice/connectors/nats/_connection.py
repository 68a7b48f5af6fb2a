"""What the NATS source and sink share: connection settings, the stream declaration,
header conversion and the translation of nats-py errors into the splice error tree.

nats-py reconnects by itself (forever, ``reconnect_wait`` apart); while it does, calls fail
with a timeout or a closed connection, which become :class:`~splice.errors.TransientError`
and :class:`~splice.errors.NotConnected` for the runtime to retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, field_validator

from splice.components.spec import ComponentConfig
from splice.errors import (
    ConnectorError,
    NotConnected,
    PermanentError,
    SpliceError,
    TransientError,
)

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

log = logging.getLogger("splice.connectors.nats")

__all__ = [
    "ConnectRefused",
    "NatsConnectionConfig",
    "NatsStream",
    "connect",
    "declare",
    "translate",
]


class NatsStream(ComponentConfig):
    """A JetStream stream, declared with these settings when it does not exist yet."""

    name: str = Field(description="Stream name.")
    subjects: list[str] | None = Field(
        None, description="Subjects the stream captures (default: the component's subject)."
    )
    storage: Literal["file", "memory"] = Field("file", description="Where the stream is kept.")
    retention: Literal["limits", "interest", "workqueue"] = Field(
        "limits", description="When messages are removed from the stream."
    )
    duplicate_window: float | None = Field(
        None, gt=0, description="Seconds `Nats-Msg-Id` deduplication lasts (server default 2m)."
    )


class NatsConnectionConfig(ComponentConfig):
    url: str = Field(
        "nats://127.0.0.1:4222", description="Server URL(s), comma-separated for a cluster."
    )
    user: str | None = Field(None, description="User name, if the server requires one.")
    password: SecretStr | None = Field(None, description="Password, as `${env:NAME}`.")
    token: SecretStr | None = Field(None, description="Token, as `${env:NAME}`.")
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a connection.")
    stream: NatsStream | None = Field(
        None, description="JetStream stream (a name, or its declaration); absent: core NATS."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        for server in value.split(","):
            if not server.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError("a server URL starts with nats://, tls://, ws:// or wss://")
        return value

    @field_validator("stream", mode="before")
    @classmethod
    def _stream_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class ConnectRefused(ConnectorError):
    """The server answered and refused the connection (user, password, token): a setting to
    put right, not an outage; a start stops on it."""

    code = "nats-refused"


async def connect(config: NatsConnectionConfig, name: str) -> Client:
    """A connected client that reconnects by itself; NotConnected (``nats-connect``) when no
    server answers, ConnectRefused when one refuses the credentials."""
    import nats

    seen: list[Exception] = []
    connected = False

    async def report(error: Exception) -> None:
        """nats-py tells why a connect failed only here: kept for the error, logged after."""
        if connected:
            await _log_error(error)
        else:
            seen.append(error)

    options: dict[str, Any] = {
        "servers": [server.strip() for server in config.url.split(",")],
        "name": name,
        "connect_timeout": config.connect_timeout,
        "allow_reconnect": True,
        "max_reconnect_attempts": 1,  # the first connect gives up; see below
        "reconnect_time_wait": 0.5,
        "error_cb": report,
    }
    if config.user is not None:
        options["user"] = config.user
    if config.password is not None:
        options["password"] = config.password.get_secret_value()
    if config.token is not None:
        options["token"] = config.token.get_secret_value()
    try:
        client = await nats.connect(**options)
    except Exception as exc:
        where = _safe(config.url)
        refusals = [error for error in seen if "authorization violation" in str(error).lower()]
        if refusals:
            raise ConnectRefused(
                f"NATS at {where} refused the credentials: {refusals[-1]}"
            ) from exc
        cause = seen[-1] if seen else exc
        raise NotConnected(
            f"cannot connect to NATS at {where}: {str(cause) or type(cause).__name__}",
            code="nats-connect",
        ) from exc
    # nats-py would retry a failed first connect forever (the runtime's job); once
    # connected, it reconnects forever by itself.
    connected = True
    client.options["max_reconnect_attempts"] = -1
    return client


async def _log_error(error: Exception) -> None:
    log.warning("nats: %s", error)


async def declare(js: JetStreamContext, stream: NatsStream, subject: str) -> None:
    """Create ``stream`` unless it exists (an existing stream is left as it is)."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream.name)
        return
    except NotFoundError:
        pass
    config = StreamConfig(
        name=stream.name,
        subjects=stream.subjects or [subject],
        storage=StorageType(stream.storage),
        retention=RetentionPolicy(stream.retention),
        duplicate_window=stream.duplicate_window or 0,
    )
    await js.add_stream(config)


def translate(exc: Exception, what: str) -> SpliceError:
    """A nats-py error as a splice error (``raise translate(exc, ...) from exc``)."""
    from nats import errors
    from nats.js import errors as js_errors

    if isinstance(exc, SpliceError):
        return exc
    if isinstance(exc, errors.ConnectionClosedError | errors.NoServersError):
        return NotConnected(f"{what}: the NATS connection is closed")
    if isinstance(exc, errors.NoRespondersError | js_errors.NoStreamResponseError):
        return TransientError(f"{what}: no responders (is the stream declared?)", code="nats")
    if isinstance(exc, js_errors.APIError) and exc.code is not None and exc.code < 500:
        return PermanentError(f"{what}: {exc.description}", status=exc.code, code="nats")
    if isinstance(exc, asyncio.TimeoutError | errors.Error | OSError):
        return TransientError(f"{what}: {type(exc).__name__} {exc}".strip(), code="nats")
    return TransientError(f"{what}: {exc}", code="nats")


def to_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in headers.items() if value is not None}


def from_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return dict(headers) if headers else {}


def _safe(url: str) -> str:
    """Server URLs without credentials, for error messages."""
    return ",".join(server.split("@")[-1] for server in url.split(","))
