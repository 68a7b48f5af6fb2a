"""What the kafka source and sink share: brokers, TLS and SASL settings, starting an aiokafka
client, and the translation of aiokafka errors into the splice error tree.

aiokafka is imported only inside functions, so validating a flow never imports it.

How aiokafka errors are classified::

    cannot reach any broker (KafkaConnectionError...)   NotConnected   reconnect with backoff
    timeouts, and errors Kafka marks retriable           TransientError retried by the policy
    (leader moved, not enough replicas, coordinator...)
    authentication or authorization refused              PermanentError (code kafka-auth)
    a record too large, an invalid topic, a policy       PermanentError (code kafka)
    any other broker error Kafka does not mark retriable PermanentError (code kafka)
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from splice.components.spec import ComponentConfig
from splice.errors import (
    ConnectorError,
    NotConnected,
    PermanentError,
    SpliceError,
    TransientError,
)
from splice.types import Duration

if TYPE_CHECKING:
    from ssl import SSLContext

    from splice.components.context import Context

__all__ = [
    "KafkaConnectionConfig",
    "Sasl",
    "Tls",
    "aiokafka",
    "client_options",
    "start",
    "translate",
]


class Tls(ComponentConfig):
    """TLS to the brokers; files are relative to the project folder."""

    ca_file: str | None = Field(
        None, description="CA certificates (PEM) to trust (default: the system's)."
    )
    cert_file: str | None = Field(None, description="Client certificate (PEM), for mutual TLS.")
    key_file: str | None = Field(None, description="Client private key (PEM), for mutual TLS.")
    key_password: SecretStr | None = Field(
        None, description="Password of the private key, as `${env:NAME}`."
    )
    check_hostname: bool = Field(True, description="Check the broker's name in its certificate.")

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        project_dir = (info.context or {}).get("project_dir")
        if value is not None and project_dir is not None:
            path = Path(value) if Path(value).is_absolute() else Path(project_dir) / value
            if not path.is_file():
                raise ValueError(f"file not found: {value}")
        return value

    @model_validator(mode="after")
    def _pair(self) -> Tls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS)")
        if self.key_password is not None and self.key_file is None:
            raise ValueError("key_password needs key_file")
        return self


class Sasl(ComponentConfig):
    """SASL authentication (over TLS unless the network is trusted)."""

    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism."
    )
    username: str = Field(description="User name.")
    password: SecretStr = Field(description="Password, as `${env:NAME}`.")


class KafkaConnectionConfig(ComponentConfig):
    brokers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9092"],
        description="Bootstrap brokers, `host:port` (a list, or one text comma-separated).",
    )
    client_id: str | None = Field(None, description="Client id (default: `splice-<flow>`).")
    tls: Tls | None = Field(None, description="TLS: `true`, or its settings (CA, client cert).")
    sasl: Sasl | None = Field(None, description="SASL authentication.")
    connect_timeout: Duration = Field(
        10.0, gt=0, description="Longest wait to reach the cluster at open."
    )
    request_timeout: Duration = Field(
        30.0, gt=0, description="Longest wait for a broker's answer to a request."
    )

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_switch(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    @field_validator("brokers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("brokers")
    @classmethod
    def _host_port(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one broker is needed")
        for broker in value:
            host, _, port = broker.rpartition(":")
            if "://" in broker or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"'{broker}' is not host:port (e.g. kafka-1:9092)")
        return value

    @property
    def security_protocol(self) -> str:
        tls = "" if self.tls is None else "SSL"
        if self.sasl is None:
            return tls or "PLAINTEXT"
        return f"SASL_{tls or 'PLAINTEXT'}"


@functools.cache
def aiokafka() -> Any:
    """The aiokafka package, or a one-line error naming the extra to install."""
    try:
        import aiokafka as module  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:
        raise ConnectorError(
            "the kafka connector needs aiokafka: pip install 'splice[kafka]'",
            code="missing-extra",
        ) from exc
    return module


def client_options(config: KafkaConnectionConfig, context: Context) -> dict[str, Any]:
    """The keyword arguments every aiokafka client takes, from ``config``."""
    options: dict[str, Any] = {
        "bootstrap_servers": list(config.brokers),
        "client_id": config.client_id or f"splice-{context.flow}",
        "request_timeout_ms": int(config.request_timeout * 1000),
        "security_protocol": config.security_protocol,
    }
    if config.tls is not None:
        options["ssl_context"] = ssl_context(config.tls, context)
    if config.sasl is not None:
        options["sasl_mechanism"] = config.sasl.mechanism
        options["sasl_plain_username"] = config.sasl.username
        options["sasl_plain_password"] = config.sasl.password.get_secret_value()
    return options


def ssl_context(tls: Tls, context: Context) -> SSLContext:
    """A TLS context that verifies the brokers (and presents a client certificate)."""
    import ssl

    try:
        secure = ssl.create_default_context(
            cafile=str(context.resolve_path(tls.ca_file)) if tls.ca_file else None
        )
        if tls.cert_file is not None and tls.key_file is not None:
            secure.load_cert_chain(
                str(context.resolve_path(tls.cert_file)),
                str(context.resolve_path(tls.key_file)),
                tls.key_password.get_secret_value() if tls.key_password else None,
            )
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise PermanentError(f"kafka TLS settings: {describe(exc)}", code="kafka-tls") from exc
    secure.check_hostname = tls.check_hostname
    return secure


async def start(client: Any, config: KafkaConnectionConfig, what: str) -> None:
    """Start an aiokafka client within ``connect_timeout``; stopped again when it fails."""
    try:
        async with asyncio.timeout(config.connect_timeout):
            await client.start()
    except BaseException as exc:
        await _stop_quietly(client)
        if not isinstance(exc, Exception):
            raise
        error = translate(exc, what)
        if isinstance(error, NotConnected | TransientError):
            brokers = ", ".join(config.brokers)
            why = type(exc).__name__
            if type(exc) is TimeoutError:
                why = f"no answer within {config.connect_timeout:g}s"
            error = NotConnected(
                f"{what}: no Kafka broker answered at {brokers} ({why})", code="kafka-connect"
            )
        raise error from exc


async def _stop_quietly(client: Any) -> None:
    try:
        await client.stop()
    except Exception:  # a client that never started has nothing to release
        return


def translate(exc: BaseException, what: str) -> SpliceError:
    """An aiokafka error as a splice error (``raise translate(exc, ...) from exc``)."""
    from aiokafka import errors  # type: ignore[import-untyped, unused-ignore]

    if isinstance(exc, SpliceError):
        return exc
    text = f"{what}: {describe(exc)}"
    if isinstance(exc, errors.KafkaConnectionError | errors.NoBrokersAvailable | OSError):
        return NotConnected(text, code="kafka-connect")
    if isinstance(exc, TimeoutError | errors.KafkaTimeoutError | errors.RequestTimedOutError):
        return TransientError(text, code="kafka-timeout")
    if isinstance(exc, _auth_errors()):
        return PermanentError(text, code="kafka-auth")
    if isinstance(exc, errors.KafkaError) and exc.retriable:
        return TransientError(text, code="kafka")
    if isinstance(exc, errors.UnknownError | errors.ProducerClosed | errors.CommitFailedError):
        return TransientError(text, code="kafka")
    return PermanentError(text, code="kafka")


def _auth_errors() -> tuple[type[Exception], ...]:
    from aiokafka import errors  # type: ignore[import-untyped, unused-ignore]

    return (
        errors.AuthenticationFailedError,
        errors.AuthenticationMethodNotSupported,
        errors.SaslAuthenticationFailed,
        errors.UnsupportedSaslMechanismError,
        errors.IllegalSaslStateError,
        errors.TopicAuthorizationFailedError,
        errors.GroupAuthorizationFailedError,
        errors.ClusterAuthorizationFailedError,
        errors.TransactionalIdAuthorizationFailed,
    )


def describe(exc: BaseException) -> str:
    """One line naming the error, never its traceback (aiokafka texts hold no secrets)."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if not text or text == name:
        return name
    if text.startswith(f"{name}:") or text.startswith("[Error"):
        return text
    return f"{name}: {text}"
