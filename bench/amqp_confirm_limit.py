"""How fast the broker confirms persistent messages with a fixed number of publishes waiting.

    .venv/bin/python bench/amqp_confirm_limit.py [--in-flight 32] [--seconds 8]
                                                 [--queue-type quorum|classic]

Scenario 2 replies to each HTTP request only once RabbitMQ confirmed its message, and wrk
keeps 32 requests open: at most 32 confirmed publishes are ever waiting. This publishes the
scenario's 563-byte XML to a durable queue (quorum, as in the scenario, or classic) from
plain aiormq (no splice, no HTTP), keeping exactly that many confirmed publishes in flight,
one process pinned to core 0, and prints messages/s: the most any publisher waiting for
confirms can reach on this broker with that many in flight, whatever its own CPU cost. Not a test; needs RabbitMQ on 127.0.0.1:5672.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import aiormq
from pamqp.commands import Basic

URL = "amqp://guest:guest@127.0.0.1:5672/"
QUEUE = "bench.confirm-limit"
BODY = b"<SalesOrder>" + b"x" * 539 + b"</SalesOrder>"


async def main(in_flight: int, seconds: float, queue_type: str) -> None:
    connection = await aiormq.connect(URL)
    channel = await connection.channel(publisher_confirms=True)
    await channel.queue_delete(QUEUE)
    await channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": queue_type})
    await channel.queue_purge(QUEUE)
    properties = Basic.Properties(delivery_mode=2, content_type="application/xml")
    done = 0
    deadline = time.monotonic() + seconds

    async def publisher() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await channel.basic_publish(BODY, routing_key=QUEUE, properties=properties)
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(publisher() for _ in range(in_flight)))
    elapsed = time.monotonic() - started
    rate = done / elapsed
    print(f"{in_flight} in flight, {queue_type} queue: {rate:,.0f} confirmed persistent messages/s")
    await channel.queue_delete(QUEUE)
    await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--queue-type", choices=("quorum", "classic"), default="quorum")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    asyncio.run(main(args.in_flight, args.seconds, args.queue_type))
