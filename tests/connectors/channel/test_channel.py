"""Channels: fan-out, competing consumers, end-to-end confirmation, backpressure, reload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from splice.components.context import Context, SharedResources
from splice.components.interfaces import Delivery
from splice.connectors.channel import sink as channel_sink
from splice.connectors.channel import source as channel_source
from splice.connectors.channel.hub import ChannelHub, topic_matches
from splice.connectors.channel.sink import ChannelSink
from splice.connectors.channel.source import ChannelSource
from splice.errors import ContractViolation, PermanentError, TransientError
from splice.message import Message


@pytest.fixture
def shared() -> SharedResources:
    return SharedResources()


def publisher(shared: SharedResources, name: str = "orders.accepted") -> ChannelSink:
    context = Context(project_dir=Path("."), flow="crm-in", shared=shared)
    config = channel_sink.SPEC.parse(name)
    assert isinstance(config, channel_sink.ChannelSinkConfig)
    return ChannelSink(config, context)


async def subscriber(
    shared: SharedResources, flow: str, name: str = "orders.accepted", **options: Any
) -> ChannelSource:
    context = Context(project_dir=Path("."), flow=flow, shared=shared)
    config = channel_source.SPEC.parse({"name": name, **options})
    assert isinstance(config, channel_source.ChannelSourceConfig)
    source = ChannelSource(config, context)
    await source.open()
    return source


async def pull(deliveries: AsyncIterator[Delivery]) -> Delivery:
    return await asyncio.wait_for(anext(deliveries), 10)


async def test_every_group_gets_a_copy_and_send_waits_for_all_of_them(
    shared: SharedResources,
) -> None:
    billing, shipping = await subscriber(shared, "billing"), await subscriber(shared, "shipping")
    original = Message({"order": 1}, headers={"tenant": "eu"}, targets=("erp",))
    sending = asyncio.create_task(publisher(shared).send(original))

    got_billing = await pull(billing.deliveries())
    got_shipping = await pull(shipping.deliveries())
    for delivery in (got_billing, got_shipping):
        copy = delivery.message
        assert copy.body == {"order": 1}
        assert copy.id != original.id
        assert copy.correlation_id == original.correlation_id
        assert copy.headers == {"tenant": "eu", "channel.name": "orders.accepted"}
        assert copy.targets is None
    got_billing.message.body["order"] = 99
    assert original.body == {"order": 1}
    assert original.headers == {"tenant": "eu"}

    await got_billing.ack()
    await asyncio.sleep(0.05)
    assert not sending.done()
    await got_shipping.ack()
    await asyncio.wait_for(sending, 10)


async def test_subscribers_of_one_group_compete(shared: SharedResources) -> None:
    members = [await subscriber(shared, "billing") for _ in range(2)]
    received: list[list[int]] = [[], []]

    async def consume(index: int) -> None:
        async for delivery in members[index].deliveries():
            received[index].append(delivery.message.body["n"])
            await delivery.ack()
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(consume(i)) for i in range(2)]
    sink = publisher(shared)
    await asyncio.wait_for(asyncio.gather(*(sink.send(Message({"n": n})) for n in range(40))), 10)
    for member in members:
        await member.close()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sorted(received[0] + received[1]) == list(range(40))


async def test_a_subscriber_that_finds_the_message_bad_makes_send_permanent(
    shared: SharedResources,
) -> None:
    billing = await subscriber(shared, "billing")
    sending = asyncio.create_task(publisher(shared).send(Message(b"{}")))
    refusal = ContractViolation([("/qty", "must be positive")])
    await (await pull(billing.deliveries())).nack(refusal)
    with pytest.raises(PermanentError, match="group 'billing' refused") as raised:
        await asyncio.wait_for(sending, 10)
    assert raised.value.__cause__ is refusal
    assert raised.value.code == "contract"


async def test_a_subscriber_failing_otherwise_makes_send_transient(
    shared: SharedResources,
) -> None:
    billing = await subscriber(shared, "billing")
    sending = asyncio.create_task(publisher(shared).send(Message(b"{}")))
    await (await pull(billing.deliveries())).nack(TimeoutError("erp too slow"))
    with pytest.raises(TransientError, match="group 'billing' failed: erp too slow"):
        await asyncio.wait_for(sending, 10)


async def test_publishing_with_no_subscriber_is_transient(shared: SharedResources) -> None:
    with pytest.raises(TransientError, match=r"no subscriber on channel 'orders\.accepted'"):
        await publisher(shared).send(Message(b"{}"))


async def test_a_full_group_buffer_holds_publishers_back(shared: SharedResources) -> None:
    billing = await subscriber(shared, "billing", buffer=2)
    hub = shared.get("channels", ChannelHub)
    [group] = hub.groups("orders.accepted")
    sink = publisher(shared)
    sends = [asyncio.create_task(sink.send(Message({"n": n}))) for n in range(6)]
    await asyncio.sleep(0.05)
    assert group.size == 2
    assert not any(send.done() for send in sends)

    deliveries = billing.deliveries()
    for _ in range(6):
        await (await pull(deliveries)).ack()
    await asyncio.wait_for(asyncio.gather(*sends), 10)
    assert group.size == 0


async def test_a_reloading_subscriber_receives_what_was_published_meanwhile(
    shared: SharedResources,
) -> None:
    old = await subscriber(shared, "billing")
    await old.close()
    sending = asyncio.create_task(publisher(shared).send(Message({"n": 1})))
    await asyncio.sleep(0.05)
    assert not sending.done()  # waits for the group's next subscriber instead of failing

    new = await subscriber(shared, "billing")
    delivery = await pull(new.deliveries())
    assert delivery.message.body == {"n": 1}
    await delivery.ack()
    await asyncio.wait_for(sending, 10)
    await new.close()


async def test_a_forgotten_group_releases_its_waiting_publishers(shared: SharedResources) -> None:
    old = await subscriber(shared, "billing")
    await old.close()
    sending = asyncio.create_task(publisher(shared).send(Message({"n": 1})))
    await asyncio.sleep(0.05)
    shared.get("channels", ChannelHub).forget("orders.accepted", "billing")
    with pytest.raises(TransientError, match="group 'billing' failed"):
        await asyncio.wait_for(sending, 10)


async def test_a_cancelled_send_is_not_delivered_later(shared: SharedResources) -> None:
    billing = await subscriber(shared, "billing")
    sink = publisher(shared)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sink.send(Message({"n": 1})), 0.05)
    sending = asyncio.create_task(sink.send(Message({"n": 2})))
    delivery = await pull(billing.deliveries())
    assert delivery.message.body == {"n": 2}
    await delivery.ack()
    await asyncio.wait_for(sending, 10)


async def test_a_pattern_subscription_receives_matching_channels(shared: SharedResources) -> None:
    audit = await subscriber(shared, "audit", name="orders.*")
    sending = asyncio.create_task(publisher(shared, "orders.cancelled").send(Message(b"x")))
    delivery = await pull(audit.deliveries())
    assert delivery.message.headers["channel.name"] == "orders.cancelled"
    await delivery.ack()
    await asyncio.wait_for(sending, 10)
    with pytest.raises(TransientError, match="no subscriber"):
        await publisher(shared, "invoices.sent").send(Message(b"x"))


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("orders.*", "orders.created", True),
        ("orders.*", "orders.eu.created", False),
        ("orders.>", "orders.eu.created", True),
        ("orders.>", "orders", False),
        ("*.created", "orders.created", True),
        ("orders", "orders", True),
        ("orders", "orders.created", False),
    ],
)
def test_topic_patterns(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches


@pytest.mark.parametrize("name", ["orders.*", "orders.>", "", "orders..x"])
def test_a_sink_publishes_to_one_plain_channel(name: str) -> None:
    with pytest.raises(ValidationError):
        channel_sink.SPEC.parse(name)


async def test_close_ends_the_deliveries(shared: SharedResources) -> None:
    billing = await subscriber(shared, "billing")
    waiting = asyncio.ensure_future(anext(billing.deliveries()))
    await asyncio.sleep(0.05)
    await billing.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 10)
