"""The soap sink: calls splice's own SOAP source and canned services on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from soap_harness import STOCK_WSDL, Canned, make_context, pulling, serving, soap12_copy

from splice.components import registry
from splice.components.interfaces import Delivery
from splice.connectors.soap import (
    SoapFaultPermanent,
    SoapFaultTransient,
    SoapSink,
    SoapSource,
    WsdlError,
)
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message
from splice.secrets import mask, register

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PRICE = (
    f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><q:TradePrice '
    'xmlns:q="http://example.com/stockquote.xsd"><price>3.25</price></q:TradePrice>'
    "</s:Body></s:Envelope>"
).encode()


def fault11(code: str, text: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:{code}</faultcode>'
        f"<faultstring>{text}</faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()


def fault12(code: str, text: str) -> bytes:
    return (
        f'<e:Envelope xmlns:e="{SOAP12}"><e:Body><e:Fault><e:Code><e:Value>e:{code}</e:Value>'
        f'</e:Code><e:Reason><e:Text xml:lang="en">{text}</e:Text></e:Reason></e:Fault>'
        "</e:Body></e:Envelope>"
    ).encode()


def sink_for(tmp_path: Path, address: str, wsdl: Path = STOCK_WSDL, **extra: Any) -> SoapSink:
    spec = registry.get("sink", "soap")
    raw = {"wsdl": str(wsdl), "operation": "GetLastTradePrice", "address": address, **extra}
    sink = spec.build(spec.parse(raw), make_context(tmp_path))
    assert isinstance(sink, SoapSink)
    return sink


@pytest.fixture
async def opened() -> AsyncIterator[list[SoapSink]]:
    sinks: list[SoapSink] = []
    yield sinks
    for sink in sinks:
        await sink.close()


async def call(sink: SoapSink, opened: list[SoapSink], body: Any) -> Any:
    if sink not in opened:
        await sink.open()
        opened.append(sink)
    await sink.send(Message(body))
    return sink.last_reply


async def test_the_sink_calls_the_source_end_to_end(tmp_path: Path, opened: list[SoapSink]) -> None:
    spec = registry.get("source", "soap")
    raw = {"path": "/stock", "wsdl": str(STOCK_WSDL), "operation": "GetLastTradePrice"}
    source = spec.build(spec.parse(raw), make_context(tmp_path))
    assert isinstance(source, SoapSource)
    await source.open()

    async def quote(delivery: Delivery) -> None:
        price = 10.0 if delivery.message.body["tickerSymbol"] == "ACME" else 1.0
        await delivery.ack([Message({"price": price})])

    try:
        sink = sink_for(tmp_path, f"http://127.0.0.1:{source.server.port}/stock")
        async with pulling(source, quote) as pulled:
            assert await call(sink, opened, {"tickerSymbol": "ACME"}) == {"price": 10.0}
        assert pulled[0].message.body["tickerSymbol"] == "ACME"
    finally:
        await source.close()
        await source.server.stop()


async def test_ws_security_username_token_and_timestamp(
    tmp_path: Path, opened: list[SoapSink], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Canned(200, PRICE)
    async with serving(app) as base:
        sink = sink_for(tmp_path, base, username="erp", password="s3cr3t-pw", timestamp=True)
        assert await call(sink, opened, {"tickerSymbol": "X"}) == {"price": 3.25}
    headers, body = app.requests[0]
    assert headers["soapaction"] == '"http://example.com/GetLastTradePrice"'
    assert headers["content-type"].startswith("text/xml")
    security = etree.fromstring(body).find(f"{{{SOAP11}}}Header/{{{WSSE}}}Security")
    assert security.findtext(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Username") == "erp"
    assert security.findtext(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Password") == "s3cr3t-pw"
    assert security.find(f"{{{WSU}}}Timestamp/{{{WSU}}}Expires") is not None
    assert "s3cr3t" not in repr(sink.config)


@pytest.mark.parametrize(
    ("reply", "error", "fault_code"),
    [
        (fault11("Client", "unknown ticker"), SoapFaultPermanent, "Client"),
        (fault11("Server", "database busy"), SoapFaultTransient, "Server"),
        (fault12("Sender", "unknown ticker"), SoapFaultPermanent, "Sender"),
        (fault12("Receiver", "database busy"), SoapFaultTransient, "Receiver"),
    ],
)
async def test_faults_are_classified_with_code_and_string(
    tmp_path: Path,
    opened: list[SoapSink],
    reply: bytes,
    error: type[Exception],
    fault_code: str,
) -> None:
    async with serving(Canned(500, reply)) as base:
        with pytest.raises(error) as caught:
            await call(sink_for(tmp_path, base), opened, {"tickerSymbol": "X"})
    assert isinstance(caught.value, PermanentError | TransientError)
    assert caught.value.fault_code == fault_code  # type: ignore[union-attr]
    assert caught.value.fault_string in ("unknown ticker", "database busy")  # type: ignore[union-attr]


async def test_server_faults_can_be_permanent(tmp_path: Path, opened: list[SoapSink]) -> None:
    async with serving(Canned(500, fault11("Server", "no such account"))) as base:
        sink = sink_for(tmp_path, base, server_fault="permanent")
        with pytest.raises(SoapFaultPermanent, match="Server fault: no such account"):
            await call(sink, opened, {"tickerSymbol": "X"})


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (503, {"retry-after": "7"}, TransientError),
        (429, {}, TransientError),
        (404, {}, PermanentError),
        (400, {}, PermanentError),
    ],
)
async def test_http_errors_without_a_fault_are_classified_like_the_http_sink(
    tmp_path: Path,
    opened: list[SoapSink],
    status: int,
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    async with serving(Canned(status, b"<html>oops</html>", headers)) as base:
        with pytest.raises(error) as caught:
            await call(sink_for(tmp_path, base), opened, {"tickerSymbol": "X"})
    if headers:
        assert caught.value.retry_after == 7  # type: ignore[attr-defined]


async def test_an_unreachable_endpoint_is_transient(tmp_path: Path, opened: list[SoapSink]) -> None:
    async with serving(Canned(200, PRICE)) as base:
        pass  # the port is free again
    with pytest.raises(TransientError, match="unreachable"):
        await call(sink_for(tmp_path, base), opened, {"tickerSymbol": "X"})


async def test_data_that_does_not_fit_the_operation_is_a_message_error(
    tmp_path: Path, opened: list[SoapSink]
) -> None:
    sink = sink_for(tmp_path, "http://127.0.0.1:9/never")
    with pytest.raises(MessageError, match="unexpected keyword argument 'bogus'"):
        await call(sink, opened, {"tickerSymbol": "X", "bogus": 1})
    with pytest.raises(MessageError, match="needs the operation's arguments as an object"):
        await call(sink, opened, b"<raw/>")


async def test_soap_12_requests(tmp_path: Path, opened: list[SoapSink]) -> None:
    wsdl = soap12_copy(STOCK_WSDL, tmp_path / "stock12.wsdl")
    reply = PRICE.replace(SOAP11.encode(), SOAP12.encode())
    app = Canned(200, reply)
    async with serving(app) as base:
        assert await call(sink_for(tmp_path, base, wsdl), opened, {"tickerSymbol": "X"}) == {
            "price": 3.25
        }
    headers, body = app.requests[0]
    assert headers["content-type"].startswith("application/soap+xml")
    assert etree.fromstring(body).tag == f"{{{SOAP12}}}Envelope"


def test_wsdls_load_offline_and_malformed_ones_fail_cleanly(tmp_path: Path) -> None:
    remote = tmp_path / "remote.wsdl"
    remote.write_text(
        STOCK_WSDL.read_text().replace(
            "<types>",
            '<import namespace="urn:x" location="http://example.invalid/x.wsdl"/><types>',
        )
    )
    with pytest.raises(WsdlError, match=r"refers to http://example\.invalid/x\.wsdl: refused"):
        sink_for(tmp_path, "http://127.0.0.1:9/", remote)
    (tmp_path / "broken.wsdl").write_text("<definitions><oops")
    with pytest.raises(WsdlError, match="cannot load WSDL"):
        sink_for(tmp_path, "http://127.0.0.1:9/", tmp_path / "broken.wsdl")


def test_the_password_is_a_secret() -> None:
    spec = registry.get("sink", "soap")
    config = spec.parse({"wsdl": "x.wsdl", "operation": "Op", "password": "pw-value-123"})
    register("pw-value-123")
    assert "pw-value-123" not in repr(config)
    assert mask("failed with pw-value-123") == "failed with ***"


async def test_a_wsdl_given_by_url_is_fetched_when_the_sink_opens(
    tmp_path: Path, opened: list[SoapSink]
) -> None:
    spec = registry.get("source", "soap")
    raw = {"path": "/stock", "wsdl": str(STOCK_WSDL), "operation": "GetLastTradePrice"}
    source = spec.build(spec.parse(raw), make_context(tmp_path))
    assert isinstance(source, SoapSource)
    await source.open()

    async def quote(delivery: Delivery) -> None:
        await delivery.ack([Message({"price": 2.0})])

    try:
        url = f"http://127.0.0.1:{source.server.port}/stock?wsdl"
        sink_spec = registry.get("sink", "soap")
        raw_sink = {"wsdl": url, "operation": "GetLastTradePrice"}
        sink = sink_spec.build(sink_spec.parse(raw_sink), make_context(tmp_path))
        assert isinstance(sink, SoapSink)
        async with pulling(source, quote):
            # no address: the served WSDL's soap:address points at the source
            assert await call(sink, opened, {"tickerSymbol": "X"}) == {"price": 2.0}
    finally:
        await source.close()
        await source.server.stop()


async def test_an_unreachable_wsdl_url_is_not_connected(tmp_path: Path) -> None:
    async with serving(Canned(200, PRICE)) as base:
        pass  # the port is free again
    spec = registry.get("sink", "soap")
    sink = spec.build(
        spec.parse({"wsdl": f"{base}/x?wsdl", "operation": "Op"}), make_context(tmp_path)
    )
    with pytest.raises(NotConnected, match="cannot load WSDL"):
        await sink.open()
    await sink.close()


async def test_ws_security_password_digest(tmp_path: Path, opened: list[SoapSink]) -> None:
    app = Canned(200, PRICE)
    async with serving(app) as base:
        sink = sink_for(tmp_path, base, username="erp", password="pw", password_digest=True)
        await call(sink, opened, {"tickerSymbol": "X"})
    token = etree.fromstring(app.requests[0][1]).find(f".//{{{WSSE}}}UsernameToken")
    password = token.find(f"{{{WSSE}}}Password")
    assert password.get("Type", "").endswith("#PasswordDigest")
    assert password.text != "pw"
    assert token.find(f"{{{WSSE}}}Nonce") is not None
