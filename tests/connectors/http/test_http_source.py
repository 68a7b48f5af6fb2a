"""The HTTP source over real loopback HTTP: replies, problem documents, backpressure."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from http_harness import Harness

from splice.components.interfaces import Delivery
from splice.errors import (
    CodecError,
    ContractViolation,
    NotConnected,
    PermanentError,
    TransientError,
)
from splice.message import Message


async def test_sync_reply_returns_last_output_bytes_with_its_content_type(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()

    async def reply_xml(delivery: Delivery) -> None:
        first = delivery.message.derive(b"ignored")
        await delivery.ack([first, Message(b"<ok/>", content_type="application/xml")])

    harness.pull(source, reply_xml)
    response = await client.post(harness.url("/orders"), content=b'{"id": 1}')
    assert response.status_code == 200
    assert response.content == b"<ok/>"
    assert response.headers["content-type"] == "application/xml"
    assert len(response.headers["x-message-id"]) == 26


async def test_sync_reply_encodes_decoded_data_as_json_with_configured_status(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source(status=201)

    async def reply_data(delivery: Delivery) -> None:
        await delivery.ack([delivery.message.derive({"ok": True, "n": 2})])

    harness.pull(source, reply_data)
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 201
    assert response.json() == {"ok": True, "n": 2}
    assert response.headers["content-type"] == "application/json"


async def test_request_becomes_message_with_headers_method_path_query(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()
    puller = harness.pull(source)
    response = await client.post(
        harness.url("/orders?region=eu"),
        content=b"<order/>",
        headers={"Content-Type": "application/xml", "X-Correlation-Id": "corr-1", "X-A": "1"},
    )
    message = puller.pulled[0].message
    assert message.body == b"<order/>"
    assert message.content_type == "application/xml"
    assert message.correlation_id == "corr-1"
    assert message.headers["x-a"] == "1"
    assert message.headers["http.method"] == "POST"
    assert message.headers["http.path"] == "/orders"
    assert message.headers["http.query"] == "region=eu"
    assert response.headers["x-message-id"] == message.id
    assert response.headers["x-correlation-id"] == "corr-1"


async def test_no_outputs_gives_204(harness: Harness, client: httpx.AsyncClient) -> None:
    source = await harness.source()

    async def filtered(delivery: Delivery) -> None:
        await delivery.ack([])

    harness.pull(source, filtered)
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 204
    assert response.content == b""
    assert "x-message-id" in response.headers


def nack_with(error: BaseException):  # type: ignore[no-untyped-def]
    async def settle(delivery: Delivery) -> None:
        await delivery.nack(error)

    return settle


async def test_contract_violation_gives_400_problem_with_field_and_errors(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    error = ContractViolation([("/qty", "'two' is not of type 'integer'"), ("/sku", "required")])
    harness.pull(await harness.source(), nack_with(error))
    response = await client.post(harness.url("/orders"), content=b"{}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:splice:error:contract"
    assert problem["status"] == 400
    assert problem["title"]
    assert problem["code"] == "contract"
    assert problem["field"] == "/qty"
    assert problem["errors"] == [
        {"pointer": "/qty", "detail": "'two' is not of type 'integer'"},
        {"pointer": "/sku", "detail": "required"},
    ]
    assert "/qty" in problem["detail"]


async def test_codec_error_gives_400_with_its_detail_and_code(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    harness.pull(await harness.source(), nack_with(CodecError("bad JSON", position="1:5")))
    response = await client.post(harness.url("/orders"), content=b"{")
    assert response.status_code == 400
    assert response.json()["detail"] == "bad JSON (at 1:5)"
    assert response.json()["code"] == "codec"


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (TransientError("erp.internal:8443 refused", retry_after=2.5), "3"),
        (TransientError("erp down"), None),
        (NotConnected("broker gone"), None),
    ],
)
async def test_transient_failure_gives_503_with_retry_after_when_known(
    harness: Harness, client: httpx.AsyncClient, error: Exception, retry_after: str | None
) -> None:
    harness.pull(await harness.source(), nack_with(error))
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 503
    assert response.headers.get("retry-after") == retry_after
    assert "erp" not in response.text
    assert "broker" not in response.text


async def test_permanent_failure_gives_502(harness: Harness, client: httpx.AsyncClient) -> None:
    error = PermanentError("https://erp.internal answered 404", status=404)
    harness.pull(await harness.source(), nack_with(error))
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 502
    assert response.json()["status"] == 502
    assert "erp.internal" not in response.text


async def test_internal_error_gives_500_without_internals(
    harness: Harness, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    error = KeyError("secret-table-name")
    harness.pull(await harness.source(), nack_with(error))
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert "secret-table-name" in caplog.text


async def test_accepted_reply_gives_202_with_id_once_journaled(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source(reply="accepted")
    never_settled: list[Delivery] = []

    async def keep(delivery: Delivery) -> None:
        never_settled.append(delivery)

    puller = harness.pull(source, keep)
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 202
    assert puller.pulled[0].needs_journal and not puller.pulled[0].caller_waits
    assert response.json() == {"id": puller.pulled[0].message.id}
    assert response.headers["x-message-id"] == puller.pulled[0].message.id


async def test_accepted_request_is_not_answered_before_the_runtime_accepts_it(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source(reply="accepted")
    pulled: list[Delivery] = []

    async def hold(delivery: Delivery) -> None:
        pulled.append(delivery)

    async def pull() -> None:
        async for delivery in source.deliveries():
            await hold(delivery)

    task = asyncio.create_task(pull())
    request = asyncio.create_task(client.post(harness.url("/orders"), content=b"x"))
    while not pulled:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    assert not request.done()
    await pulled[0].accept()
    response = await asyncio.wait_for(request, 5)
    assert response.status_code == 202
    task.cancel()


async def test_request_waits_until_the_runtime_pulls(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source(reply="accepted")
    request = asyncio.create_task(client.post(harness.url("/orders"), content=b"x"))
    await asyncio.sleep(0.3)
    assert not request.done()
    harness.pull(source)
    response = await asyncio.wait_for(request, 5)
    assert response.status_code == 202


async def test_sync_request_waits_while_the_flow_is_saturated(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()
    release = asyncio.Event()

    async def slow(delivery: Delivery) -> None:
        await release.wait()
        await delivery.ack([delivery.message])

    puller = harness.pull(source, slow)
    first = asyncio.create_task(client.post(harness.url("/orders"), content=b"1"))
    second = asyncio.create_task(client.post(harness.url("/orders"), content=b"2"))
    await asyncio.sleep(0.3)
    assert len(puller.pulled) == 1
    assert not first.done()
    assert not second.done()
    release.set()
    responses = await asyncio.gather(first, second)
    assert sorted(r.content for r in responses) == [b"1", b"2"]


async def test_request_not_pulled_within_reply_timeout_gets_503(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()
    source._timeout = 0.2
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    puller = harness.pull(source)
    await asyncio.sleep(0.1)
    assert puller.pulled == []


async def test_pulled_request_not_settled_within_reply_timeout_gets_504(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()
    source._timeout = 0.2
    kept: list[Delivery] = []

    async def keep(delivery: Delivery) -> None:
        kept.append(delivery)

    harness.pull(source, keep)
    response = await client.post(harness.url("/orders"), content=b"x")
    assert response.status_code == 504
    assert response.json()["code"] == "http-reply-timeout"
    await kept[0].ack([])  # settling late is harmless


async def test_close_answers_unpulled_requests_503_and_ends_deliveries(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    source = await harness.source()
    request = asyncio.create_task(client.post(harness.url("/orders"), content=b"x"))
    await asyncio.sleep(0.2)
    puller_source_deliveries = source.deliveries()
    await source.close()
    response = await asyncio.wait_for(request, 5)
    assert response.status_code == 503
    with pytest.raises(StopAsyncIteration):
        await anext(puller_source_deliveries)
