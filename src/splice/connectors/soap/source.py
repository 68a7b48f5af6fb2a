"""``soap`` source: serve one operation of a WSDL on the engine's HTTP server.

``POST path`` takes a SOAP envelope (1.1 or 1.2, as the WSDL's binding says), parsed
without DTDs or entities, validates the body element against the WSDL's schema
(xmlschema) and hands the operation's input to the flow as data. The caller waits; the
flow's last output (data) is serialised as the operation's output message. ``GET path?wsdl``
serves the WSDL with its ``soap:address`` pointing at this endpoint. Errors are SOAP faults,
never an HTML page::

    not an envelope, DTD, other operation, invalid body      Client/Sender fault
    MessageError in the flow (codec, mapping, contract)       Client/Sender fault
    anything else, a reply that does not fit the output      Server/Receiver fault
    flow busy or stopping (HTTP 503), reply timeout (504)     Server/Receiver fault

SOAP 1.1 faults are sent with HTTP 500; SOAP 1.2 ones with 400 (Sender) or 500 (Receiver).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from lxml import etree  # type: ignore[import-untyped]
from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.http.problem import Reply
from splice.connectors.http.server import Route, Scope
from splice.connectors.http.source import HttpSource, HttpSourceConfig, _Request
from splice.connectors.soap._envelope import (
    CONTENT_TYPES,
    BadEnvelope,
    body_child,
    fault_envelope,
    parse_envelope,
)
from splice.connectors.soap._wsdl import SOAP12, WsdlError, WsdlOperation, load_operation
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message

__all__ = ["SPEC", "SoapSource", "SoapSourceConfig"]

log = logging.getLogger(__name__)


class SoapSourceConfig(ComponentConfig):
    path: str = Field(description="Path to serve, e.g. `/soap/orders` (starts with `/`).")
    wsdl: str = Field(description="WSDL file describing the operation (relative to the project).")
    operation: str = Field(description="Operation to serve.")
    service: str | None = Field(None, description="Service name (default: the first).")
    port: str | None = Field(None, description="Port name (default: the service's first).")
    validate_body: bool = Field(
        True, alias="validate", description="Validate the body against the WSDL's schema."
    )
    max_body_bytes: int | None = Field(
        None, ge=1, description="Largest accepted envelope (default: `http.max_body_bytes`)."
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in "?# \t"):
            raise ValueError("a path starts with '/' and has no query, fragment or spaces")
        return value


SPEC = ComponentSpec(
    kind="source",
    name="soap",
    summary="Serve a SOAP operation from a WSDL; reply with the flow's output or a fault.",
    config=SoapSourceConfig,
    example="soap: {path: /soap/stock, wsdl: wsdl/stock.wsdl, operation: GetLastTradePrice}",
    factory="splice.connectors.soap.source:SoapSource",
    description=(
        "The message body is the operation's input as data; headers hold `soap.operation`, "
        "`soap.version` and `soap.action`. See docs/guides/soap.md."
    ),
    scales_out=True,
)


class _Refused(Exception):
    """A request answered with a Client fault before it reaches the flow."""


class SoapSource(HttpSource):
    """An HTTP source whose requests and replies are SOAP envelopes."""

    def __init__(self, config: SoapSourceConfig, context: Context) -> None:
        http = HttpSourceConfig(path=config.path, max_body_bytes=config.max_body_bytes)
        super().__init__(http, context)
        self.soap = config
        self._wsdl_path = context.resolve_path(config.wsdl)
        self.operation: WsdlOperation = load_operation(
            str(self._wsdl_path), config.operation, service=config.service, port=config.port
        )
        self._ns = self.operation.envelope_ns
        self._schema = _load_schema(str(self._wsdl_path)) if config.validate_body else None
        self._wsdl_route: Route | None = None

    async def open(self) -> None:
        self._wsdl_route = self.server.register(
            "GET", self.soap.path, self._serve_wsdl, owner=self._flow, endpoint=self
        )
        await super().open()

    async def close(self) -> None:
        route, self._wsdl_route = self._wsdl_route, None
        if route is not None:
            self.server.release(route)
        await super().close()

    # -- requests ------------------------------------------------------------------------

    async def _handle(self, scope: Scope, headers: dict[str, str], body: bytes) -> Reply:
        if self._closed:
            return self._fault(False, "The service is stopping; retry later.", "http-busy", 503)
        try:
            data = self._input(body)
        except _Refused as exc:
            return self._fault(True, str(exc), "soap-request")
        headers["soap.operation"] = self.operation.name
        headers["soap.version"] = self.operation.version
        headers["soap.action"] = headers.get("soapaction", "").strip('"')
        message = Message(data, headers, correlation_id=headers.get("x-correlation-id", ""))
        loop = asyncio.get_running_loop()
        request = _Request(message, loop, True)
        self._enqueue(request)
        timer = loop.call_later(self._timeout, request.expire)
        try:
            reply = await self._soap_reply(request)
        finally:
            timer.cancel()
        reply.headers.append((b"x-message-id", message.id.encode()))
        return reply

    def _input(self, body: bytes) -> Any:
        try:
            envelope = parse_envelope(body)
            child = body_child(envelope)
        except BadEnvelope as exc:
            raise _Refused(str(exc)) from exc
        if etree.QName(envelope).namespace != self._ns:
            raise _Refused(f"this endpoint speaks SOAP {self.operation.version}")
        if child is None:
            raise _Refused("the Body is empty")
        expected = getattr(self.operation.operation.input.body, "qname", None)
        if expected is not None and child.tag != str(expected):
            got = etree.QName(child).localname
            wanted = etree.QName(str(expected)).localname
            raise _Refused(f"{self.operation.name} expects {wanted} in the Body, not {got}")
        if self._schema is not None:
            errors = list(self._schema.iter_errors(child))
            if errors:
                raise _Refused("; ".join(_schema_error(e) for e in errors[:5]))
        try:
            data = self.operation.read_input(envelope)
        except Exception as exc:  # zeep raises many unrelated types for a wrong body
            raise _Refused(f"the body is not a {self.operation.name} request: {exc}") from exc
        if isinstance(data, dict):
            return data
        return (
            {} if data is None or (isinstance(data, str) and not data.strip()) else {"value": data}
        )

    async def _soap_reply(self, request: _Request) -> Reply:
        if not await request.pulled:
            return self._fault(
                False, "The flow is busy or stopping; retry later.", "http-busy", 503
            )
        outcome = await request.settled
        if outcome is None:
            text = "The flow did not finish in time; the message is still being processed."
            return self._fault(False, text, "http-reply-timeout", 504)
        if isinstance(outcome, BaseException):
            return self._error_fault(outcome)
        return self._output(outcome)

    def _output(self, outputs: Sequence[Message]) -> Reply:
        if self.operation.one_way:
            return Reply(202)
        if not outputs:
            return self._fault(False, "The flow produced no reply.", "soap-no-reply")
        last = outputs[-1]
        body = _reply_data(last)
        if body is None:
            return Reply(200, last.body_bytes(), CONTENT_TYPES[self._ns])
        try:
            serialized = self.operation.operation.output.serialize(**body)
        except Exception:
            log.exception("the reply of message %s does not fit %s", last.id, self.operation.name)
            return self._fault(False, "The flow's reply does not fit the operation.", "soap-reply")
        content = etree.tostring(serialized.content, xml_declaration=True, encoding="utf-8")
        return Reply(200, content, CONTENT_TYPES[self._ns])

    def _error_fault(self, error: BaseException) -> Reply:
        if isinstance(error, MessageError):
            return self._fault(True, error.message, error.code)
        if isinstance(error, TransientError | NotConnected):
            text = "A system this flow depends on is unavailable; retry later."
            return self._fault(False, text, error.code)
        if isinstance(error, PermanentError):
            text = "A system this flow delivers to refused the message."
            return self._fault(False, text, error.code)
        log.error("flow failed on a SOAP request", exc_info=error)
        return self._fault(False, "The flow failed unexpectedly.", "internal")

    def _fault(self, client: bool, text: str, code: str, status: int | None = None) -> Reply:
        if status is None:
            status = 400 if client and self._ns == SOAP12 else 500
        body = fault_envelope(self._ns, client, text, code)
        return Reply(status, body, CONTENT_TYPES[self._ns])

    # -- the WSDL ------------------------------------------------------------------------

    async def _serve_wsdl(self, scope: Scope, headers: dict[str, str], body: bytes) -> Reply:
        query = scope["query_string"].decode("latin-1").lower()
        if query.split("=")[0] != "wsdl":
            return self._fault(True, "GET serves the WSDL: add ?wsdl", "soap-request", 404)
        data = await asyncio.to_thread(self._wsdl_path.read_bytes)
        location = f"http://{headers.get('host', 'localhost')}{self.soap.path}"
        return Reply(200, _with_address(data, location), "text/xml; charset=utf-8")


def _reply_data(message: Message) -> dict[str, Any] | None:
    """The reply as data: decoded, or JSON a sink received encoded; None for a ready envelope.

    Anything else becomes ``{}``, which does not fit an output with required parts.
    """
    if not message.is_encoded:
        return message.body if isinstance(message.body, dict) else {}
    data = message.body_bytes()
    try:
        parse_envelope(data)
    except BadEnvelope:
        pass
    else:
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _with_address(data: bytes, location: str) -> bytes:
    """The WSDL with every ``soap:address`` / ``soap12:address`` set to ``location``."""
    from splice.codecs.xml import safe_parser

    root = etree.fromstring(data, safe_parser())
    for element in root.iter("{*}address"):
        if element.get("location") is not None:
            element.set("location", location)
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return result


def _load_schema(wsdl: str) -> Any:
    """The WSDL's schemas (xmlschema), local files only, nothing fetched."""
    from xmlschema.extras.wsdl import Wsdl11Document

    try:
        document = Wsdl11Document(wsdl, validation="lax", allow="local", defuse="always")  # type: ignore[no-untyped-call]
        return document.schema
    except Exception as exc:  # xmlschema's errors do not share a base
        raise WsdlError(f"cannot read the schema of WSDL {wsdl}: {exc}") from exc


def _schema_error(error: Any) -> str:
    path = getattr(error, "path", None) or ""
    reason = getattr(error, "reason", None) or str(error)
    return f"{path}: {reason}" if path else str(reason)
