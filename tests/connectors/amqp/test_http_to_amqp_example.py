"""examples/http-to-amqp end to end: HTTP POST -> decode, map, encode -> RabbitMQ, confirmed.

The example runs in the engine as written, with only its queue and exchange names made
unique and its HTTP port free; the caller's 200 comes after the broker confirmed.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import httpx
import orjson
import pytest
from amqp_harness import broker, require

from splice.config import load_project
from splice.runtime.engine import Engine

pytestmark = pytest.mark.service

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "http-to-amqp"
ORDER = {
    "orderId": "A-1",
    "customer": {"name": "Acme"},
    "items": [{"sku": "X", "qty": 2, "price": 5.5}, {"sku": "Y", "qty": 1, "price": 10}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def copy_example(target: Path, queue: str, exchange: str, port: int) -> Path:
    project = target / "http-to-amqp"
    shutil.copytree(EXAMPLE, project)
    settings = project / "splice.yaml"
    settings.write_text(settings.read_text().replace("port: 8080", f"port: {port}"))
    flow = project / "flows" / "orders.yaml"
    text = flow.read_text().replace("orders.accepted", queue)
    text = text.replace("exchange: orders", f"exchange: {exchange}")
    text = text.replace("{name: orders,", f"{{name: {exchange},")
    flow.write_text(text)
    return project


async def test_a_posted_order_is_confirmed_by_rabbitmq(tmp_path: Path) -> None:
    require("rabbitmq")
    async with broker() as rabbit:
        queue, exchange = rabbit.queue("orders"), rabbit.exchange("orders")
        port = free_port()
        engine = Engine(load_project(copy_example(tmp_path, queue, exchange, port)))
        await engine.start()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                reply = await client.post(f"http://127.0.0.1:{port}/orders", json=ORDER)
        finally:
            await engine.stop()
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"orderId": "A-1", "customer": "Acme", "total": 21}
        assert await rabbit.ready(queue) == 1  # confirmed before the caller was answered
        got = await rabbit.get(queue)
        assert got is not None
        assert orjson.loads(got.body) == {"orderId": "A-1", "customer": "Acme", "total": 21}
        properties = got.header.properties
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.headers is not None
        headers = {k: v for k, v in properties.headers.items() if not k.startswith("x-")}
        assert headers == {"order-id": "A-1"}  # only the chosen header (x-: the quorum queue)
        assert properties.message_id == reply.headers["x-message-id"]
