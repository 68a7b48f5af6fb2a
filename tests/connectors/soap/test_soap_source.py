"""The soap source: a real zeep client calling splice's endpoint on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from soap_harness import (
    STOCK_WSDL,
    async_service,
    make_context,
    pulling,
    soap12_copy,
    zeep_client,
)
from zeep.exceptions import Fault
from zeep.proxy import AsyncServiceProxy

from splice.components import registry
from splice.components.interfaces import Delivery
from splice.connectors.soap import SoapSource, WsdlError
from splice.errors import CodecError, PermanentError, TransientError
from splice.message import Message

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


async def reply_price(delivery: Delivery) -> None:
    await delivery.ack([Message({"price": 12.5}, correlation_id=delivery.message.id)])


async def build(tmp_path: Path, wsdl: Path = STOCK_WSDL, **extra: object) -> SoapSource:
    spec = registry.get("source", "soap")
    raw = {"path": "/soap/stock", "wsdl": str(wsdl), "operation": "GetLastTradePrice", **extra}
    source = spec.build(spec.parse(raw), make_context(tmp_path))
    assert isinstance(source, SoapSource)
    await source.open()
    return source


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[SoapSource]:
    built = await build(tmp_path)
    yield built
    await built.close()
    await built.server.stop()


def url(source: SoapSource) -> str:
    return f"http://127.0.0.1:{source.server.port}/soap/stock"


@pytest.fixture
async def zeep_service(source: SoapSource) -> AsyncIterator[AsyncServiceProxy]:
    async with zeep_client(STOCK_WSDL) as client:
        yield async_service(client, url(source))


async def test_a_zeep_client_gets_the_flows_reply(
    source: SoapSource, zeep_service: AsyncServiceProxy
) -> None:
    async with pulling(source, reply_price) as pulled:
        price = await zeep_service.GetLastTradePrice(
            tickerSymbol="ACME", account={"id": 7, "user": "u"}
        )
    assert price == 12.5
    message = pulled[0].message
    assert message.body == {
        "tickerSymbol": "ACME",
        "account": {"id": 7, "user": "u"},
        "country": None,
    }
    assert message.headers["soap.operation"] == "GetLastTradePrice"
    assert message.headers["soap.action"] == "http://example.com/GetLastTradePrice"
    assert pulled[0].caller_waits


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (CodecError("bad ticker", position="byte 3"), "Client", "bad ticker (at byte 3)"),
        (TransientError("db down"), "Server", "A system this flow depends on is unavailable"),
        (PermanentError("refused"), "Server", "A system this flow delivers to refused"),
        (RuntimeError("secret internals"), "Server", "The flow failed unexpectedly."),
    ],
)
async def test_flow_failures_come_back_as_soap_faults(
    source: SoapSource,
    zeep_service: AsyncServiceProxy,
    error: BaseException,
    code: str,
    text: str,
) -> None:
    async def fail(delivery: Delivery) -> None:
        await delivery.nack(error)

    async with pulling(source, fail):
        with pytest.raises(Fault) as caught:
            await zeep_service.GetLastTradePrice(tickerSymbol="ACME")
    assert caught.value.code == f"soap:{code}"
    assert caught.value.message.startswith(text)
    assert "secret internals" not in caught.value.message


async def test_a_reply_that_does_not_fit_the_output_is_a_server_fault(
    source: SoapSource, zeep_service: AsyncServiceProxy
) -> None:
    async def echo(delivery: Delivery) -> None:
        await delivery.ack([delivery.message])

    async with pulling(source, echo):
        with pytest.raises(Fault, match="does not fit the operation"):
            await zeep_service.GetLastTradePrice(tickerSymbol="ACME")


def envelope(body: str, ns: str = SOAP11) -> bytes:
    return f'<s:Envelope xmlns:s="{ns}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            envelope(
                '<q:TradePriceRequest xmlns:q="http://example.com/stockquote.xsd"><bogus/></q:TradePriceRequest>'
            ),
            "Unexpected child with tag 'bogus'",
        ),
        (
            envelope('<q:TradePrice xmlns:q="http://example.com/stockquote.xsd"/>'),
            "GetLastTradePrice expects TradePriceRequest in the Body, not TradePrice",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "must not contain a DTD",
        ),
        (b"<html>not soap</html>", "not a SOAP 1.1 or 1.2 Envelope"),
        (b'{"json": true}', "not well-formed XML"),
        (envelope("", "http://www.w3.org/2003/05/soap-envelope"), "this endpoint speaks SOAP 1.1"),
    ],
    ids=["invalid-body", "other-element", "dtd", "html", "json", "wrong-version"],
)
async def test_bad_requests_get_a_client_fault_and_never_reach_the_flow(
    source: SoapSource, payload: bytes, reason: str
) -> None:
    async with pulling(source, reply_price) as pulled, httpx.AsyncClient() as client:
        response = await client.post(url(source), content=payload)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/xml")
    fault = etree.fromstring(response.content).find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert reason in fault.findtext("faultstring")
    assert pulled == []


async def test_get_wsdl_serves_the_wsdl_pointing_at_this_endpoint(source: SoapSource) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(url(source) + "?wsdl")
        other = await client.get(url(source))
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == url(source)
    assert other.status_code == 404
    assert b"Fault" in other.content


async def test_soap_12_requests_and_sender_faults(tmp_path: Path) -> None:
    wsdl = soap12_copy(STOCK_WSDL, tmp_path / "stock12.wsdl")
    source = await build(tmp_path, wsdl)
    try:
        async with zeep_client(wsdl) as client:
            service = async_service(client, url(source))
            async with pulling(source, reply_price):
                assert await service.GetLastTradePrice(tickerSymbol="X") == 12.5

            async def reject(delivery: Delivery) -> None:
                await delivery.nack(CodecError("nope"))

            async with pulling(source, reject):
                with pytest.raises(Fault) as caught:
                    await service.GetLastTradePrice(tickerSymbol="X")
        assert caught.value.code == "soap:Sender"
        assert caught.value.message == "nope"
    finally:
        await source.close()
        await source.server.stop()


async def test_a_malformed_wsdl_or_unknown_operation_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "bad.wsdl").write_text("<definitions")
    with pytest.raises(WsdlError, match="cannot load WSDL"):
        await build(tmp_path, tmp_path / "bad.wsdl")
    with pytest.raises(WsdlError, match=r"has no operation 'Nope'.*GetLastTradePrice"):
        await build(tmp_path, operation="Nope")
