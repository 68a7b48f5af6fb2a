"""``soap`` sink: call one operation of a WSDL-described service with each message.

The message body (data, usually built by a ``map`` step) becomes the operation's arguments:
``{"tickerSymbol": "ACME"}`` for ``GetLastTradePrice(tickerSymbol)``. zeep builds the
envelope (SOAP 1.1 or 1.2, as the WSDL's binding says), with a WS-Security UsernameToken
and Timestamp when configured; httpx sends it. How the answer is classified::

    2xx with a reply envelope (or 202 for a one-way operation)  delivered
    a Client / Sender fault (any status)                        SoapFaultPermanent
    a Server / Receiver fault                                   SoapFaultTransient
                                                                (SoapFaultPermanent with
                                                                ``server_fault: permanent``)
    408, 429, 500, 502, 503, 504 without a fault                TransientError (Retry-After)
    any other status                                            PermanentError
    timeout, connection refused or reset                        TransientError
    data that does not fit the operation's input                MessageError (never retried)

Fault errors carry ``fault_code`` and ``fault_string``. The reply of the last call, as data,
is kept in ``last_reply``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Literal

import httpx
from lxml import etree  # type: ignore[import-untyped]
from pydantic import Field, SecretStr, field_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.http.sink import TRANSIENT_STATUSES, parse_retry_after
from splice.connectors.soap._envelope import (
    CONTENT_TYPES,
    BadEnvelope,
    Fault,
    parse_envelope,
    read_fault,
)
from splice.connectors.soap._wsdl import WsdlError, WsdlOperation, load_operation
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message
from splice.types import Duration

log = logging.getLogger(__name__)

__all__ = ["SPEC", "SoapFaultPermanent", "SoapFaultTransient", "SoapSink", "SoapSinkConfig"]


class SoapSinkConfig(ComponentConfig):
    wsdl: str = Field(description="WSDL file (relative to the project) or `http(s)://` URL.")
    operation: str = Field(description="Operation to call, e.g. `CreateSalesOrder`.")
    service: str | None = Field(None, description="Service name (default: the first).")
    port: str | None = Field(None, description="Port name (default: the service's first).")
    address: str | None = Field(
        None, description="Endpoint URL, overriding the WSDL's `soap:address`."
    )
    username: str | None = Field(None, description="WS-Security UsernameToken user name.")
    password: SecretStr | None = Field(
        None, description="WS-Security password, by reference: `${env:NAME}`."
    )
    password_digest: bool = Field(False, description="Send a PasswordDigest, not the text.")
    timestamp: bool = Field(False, description="Add a WS-Security Timestamp.")
    timestamp_ttl: Duration = Field(300.0, gt=0, description="Seconds until the Timestamp expires.")
    server_fault: Literal["transient", "permanent"] = Field(
        "transient", description="How a Server/Receiver fault is treated."
    )
    timeout: Duration = Field(30.0, gt=0, description="Seconds to wait for the answer.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("the address must start with http:// or https://")
        return value


SPEC = ComponentSpec(
    kind="sink",
    name="soap",
    summary="Call a SOAP operation described by a WSDL; faults are classified errors.",
    config=SoapSinkConfig,
    example=(
        "soap: {wsdl: wsdl/erp.wsdl, operation: CreateSalesOrder, "
        "username: erp-user, password: '${env:ERP_PASSWORD}'}"
    ),
    factory="splice.connectors.soap.sink:SoapSink",
    description="See docs/guides/soap.md.",
)


class SoapFaultPermanent(PermanentError):
    """The service answered a fault that retrying cannot fix."""

    def __init__(self, message: str, fault: Fault, *, code: str) -> None:
        super().__init__(message, code=code)
        self.fault_code, self.fault_string = fault.code, fault.string


class SoapFaultTransient(TransientError):
    """The service answered a Server/Receiver fault: retried under the flow's policy."""

    def __init__(self, message: str, fault: Fault) -> None:
        super().__init__(message, code="soap-fault-server")
        self.fault_code, self.fault_string = fault.code, fault.string


class SoapSink(Sink):
    def __init__(self, config: SoapSinkConfig, context: Context) -> None:
        self.config = config
        self._online = config.wsdl.startswith(("http://", "https://"))
        self._wsdl = config.wsdl if self._online else str(context.resolve_path(config.wsdl))
        self._operation: WsdlOperation | None = None
        self._client: httpx.AsyncClient | None = None
        self.last_reply: Any = None
        if not self._online:
            self._operation = self._load()

    def _load(self) -> WsdlOperation:
        c = self.config
        return load_operation(
            self._wsdl, c.operation, service=c.service, port=c.port,
            online=self._online, wsse=self._wsse(),
        )  # fmt: skip

    def _wsse(self) -> list[Any] | None:
        tokens: list[Any] = []
        if self.config.timestamp:
            tokens.append(_Timestamp(self.config.timestamp_ttl))
        if self.config.username is not None:
            from zeep.wsse.username import UsernameToken

            password = self.config.password.get_secret_value() if self.config.password else None
            digest = self.config.password_digest
            tokens.append(UsernameToken(self.config.username, password, use_digest=digest))  # type: ignore[no-untyped-call]
        return tokens or None

    @property
    def address(self) -> str:
        operation = self._operation
        found = self.config.address or (operation.options.get("address") if operation else None)
        if not found:
            raise WsdlError(f"WSDL {self.config.wsdl} gives no address: set `address`")
        return str(found)

    async def open(self) -> None:
        if self._operation is None:
            try:
                self._operation = await asyncio.to_thread(self._load)
            except WsdlError as exc:
                raise NotConnected(str(exc)) from exc
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout, follow_redirects=False)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def send(self, message: Message) -> None:
        operation, client = self._operation, self._client
        if operation is None or client is None:
            raise NotConnected(f"soap sink for {self.config.operation} is not open")
        envelope, headers = _build(operation, message)
        headers.setdefault("Content-Type", CONTENT_TYPES[operation.envelope_ns])
        headers.update(self.config.headers)
        headers.update({"x-message-id": message.id, "x-correlation-id": message.correlation_id})
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        try:
            response = await client.post(self.address, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"{self.config.operation}: no answer within {self.config.timeout:g}s",
                code="soap-timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{self.config.operation}: endpoint unreachable: {type(exc).__name__}",
                code="soap-connect",
            ) from exc
        self.last_reply = self._classify(operation, response)

    def _classify(self, operation: WsdlOperation, response: httpx.Response) -> Any:
        status, content = response.status_code, response.content
        envelope = _envelope_or_none(content)
        fault = read_fault(envelope) if envelope is not None else None
        if fault is not None:
            raise self._fault_error(fault)
        if 200 <= status < 300:
            return None if envelope is None or operation.one_way else _reply(operation, envelope)
        where = f"{self.config.operation} at {httpx.URL(self.address).host}"
        if status in TRANSIENT_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise TransientError(f"{where} answered {status}", retry_after=retry_after)
        raise PermanentError(f"{where} answered {status}", status=status, code="soap-status")

    def _fault_error(self, fault: Fault) -> Exception:
        text = f"{self.config.operation} answered a {fault.code} fault: {fault.string}"
        if fault.is_server and self.config.server_fault == "transient":
            return SoapFaultTransient(text, fault)
        code = "soap-fault-server" if fault.is_server else "soap-fault-client"
        return SoapFaultPermanent(text, fault, code=code)


def _build(operation: WsdlOperation, message: Message) -> tuple[Any, dict[str, str]]:
    """The request envelope and HTTP headers; MessageError when the data does not fit."""
    data = message.body
    if not isinstance(data, dict):
        raise MessageError(
            f"the soap sink needs the operation's arguments as an object, "
            f"not {type(data).__name__} (decode and map the message first)",
            code="soap-arguments",
        )
    try:
        envelope, headers = operation.binding._create(
            operation.name, (), data, client=operation.client, options=operation.options
        )
    except (TypeError, ValueError) as exc:
        raise MessageError(
            f"the message does not fit {operation.name}: {' '.join(str(exc).split())[:300]}",
            code="soap-arguments",
        ) from exc
    except Exception as exc:  # zeep's ValidationError and friends
        raise MessageError(
            f"the message does not fit {operation.name}: {' '.join(str(exc).split())[:300]}",
            code="soap-arguments",
        ) from exc
    return envelope, {str(k): str(v) for k, v in headers.items()}


def _reply(operation: WsdlOperation, envelope: Any) -> Any:
    """The reply as data; None (logged) when it does not match the output: it was delivered."""
    try:
        return operation.read_output(envelope)
    except Exception as exc:  # zeep raises many unrelated types for an unexpected reply
        log.warning("the reply to %s does not match its output message: %s", operation.name, exc)
        return None


def _envelope_or_none(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return parse_envelope(content)
    except BadEnvelope:
        return None


class _Timestamp:
    """WS-Security Timestamp (Created, Expires) in the Security header, as zeep's wsse."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl

    def apply(self, envelope: Any, headers: Any) -> tuple[Any, Any]:
        from zeep.wsse.utils import WSU, get_security_header

        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        expires = now + dt.timedelta(seconds=self.ttl)
        security = get_security_header(envelope)  # type: ignore[no-untyped-call]
        security.append(
            WSU.Timestamp(
                WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
                WSU.Expires(expires.strftime("%Y-%m-%dT%H:%M:%SZ")),
            )
        )
        return envelope, headers

    def verify(self, envelope: Any) -> None:
        return None
