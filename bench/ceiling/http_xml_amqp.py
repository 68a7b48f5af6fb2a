"""Hand-written ceiling for scenario 2: scenario 1's ASGI app, plus the XML published to the
durable queue ``e2e.ceiling`` with publisher confirms (aio-pika) before the reply. The queue is
of the scenario's type: ``BENCH_AMQP_QUEUE_TYPE``, quorum unless it says classic.

Run: ``PYTHONPATH=bench/.peers/py python bench/ceiling/http_xml_amqp.py PORT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aio_pika
import orjson
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_json_xml import to_xml, validate

URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
QUEUE = "e2e.ceiling"
QUEUE_ARGUMENTS = {"x-queue-type": os.environ.get("BENCH_AMQP_QUEUE_TYPE", "quorum")}
_state: dict[str, object] = {}


async def _exchange() -> aio_pika.abc.AbstractExchange:
    exchange = _state.get("exchange")
    if exchange is None:
        connection = await aio_pika.connect_robust(URL)  # survives a broker restart
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(QUEUE, durable=True, arguments=QUEUE_ARGUMENTS)
        _state["connection"], exchange = connection, channel.default_exchange
        _state["exchange"] = exchange
    return exchange  # type: ignore[return-value]


async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    if scope["path"] == "/healthz":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    body = b""
    more = True
    while more:
        event = await receive()
        body += event.get("body", b"")
        more = event.get("more_body", False)
    try:
        order = orjson.loads(body)
        problem = validate(order)
    except orjson.JSONDecodeError as error:
        problem = f"not JSON: {error}"
    if problem is None:
        xml = to_xml(order)
        exchange = await _exchange()
        await exchange.publish(  # waits for the broker's confirm
            aio_pika.Message(
                xml, content_type="application/xml", delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            ),
            routing_key=QUEUE,
        )
        status, headers, reply = 200, [(b"content-type", b"application/xml")], xml
    else:
        status, headers = 400, [(b"content-type", b"application/problem+json")]
        reply = orjson.dumps({"title": "Bad message", "status": 400, "detail": problem})
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": reply})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        loop="uvloop",
        http="httptools",
    )
