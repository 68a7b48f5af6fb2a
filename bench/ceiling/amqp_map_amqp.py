"""Hand-written ceiling for scenario 3 on aiormq: consume ``bench.in`` with manual acks and
prefetch, reshape each order by hand (the same mapping as the splice flow, exact money),
publish to ``bench.out.ceiling`` with publisher confirms, ack after the confirm.

Run: ``PYTHONPATH=bench/.peers/py python bench/ceiling/amqp_map_amqp.py``.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import aiormq
import orjson

URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PREFETCH = int(os.environ.get("BENCH_PREFETCH", "200"))
OUT = "bench.out.ceiling"
_PROPS = aiormq.spec.Basic.Properties(delivery_mode=2, content_type="application/json")


def _num(value: object) -> Decimal:
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)  # orjson has no Decimal; the JSON text is the same for these
    raise TypeError


def reshape(order: dict) -> bytes:
    lines, total = [], Decimal(0)
    for item in order["items"]:
        amount = _num(item["qty"]) * _num(item["price"])
        total += amount
        lines.append({"sku": item["sku"], "qty": item["qty"], "amount": amount})
    doc = {
        "id": order["orderId"],
        "customer": order["customer"]["name"],
        "lines": lines,
        "total": total,
    }
    return orjson.dumps(doc, default=_default)


async def main() -> None:
    connection = await aiormq.connect(URL)
    channel = await connection.channel(publisher_confirms=True)
    await channel.basic_qos(prefetch_count=PREFETCH)
    await channel.queue_declare("bench.in", durable=True)
    await channel.queue_declare(OUT, durable=True)

    async def handle(message: aiormq.abc.DeliveredMessage) -> None:
        body = reshape(orjson.loads(message.body))
        await channel.basic_publish(body, routing_key=OUT, properties=_PROPS)  # confirmed
        await channel.basic_ack(message.delivery.delivery_tag)

    # aiormq runs the callback as one task per delivery: up to PREFETCH in flight
    await channel.basic_consume("bench.in", handle, no_ack=False)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
