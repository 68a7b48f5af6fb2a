"""Steps that evaluate JSONata on the body pass the decoder's ``plain`` mark on, so their
expressions skip the walk that looks for values JSON cannot hold; copies keep the mark.

``plain=True`` gives the same result for JSON data (tests/mapping/test_codegen.py); here each
step is shown to pass the mark as the message has it, and never for a body it was not given.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from splice.components import registry
from splice.components.context import Context, SharedResources
from splice.connectors.channel.hub import ChannelHub
from splice.mapping._mapping import Mapping
from splice.message import Message
from splice.steps.decode import DecodeConfig, DecodeStep
from splice.store import Store

ORDER = b'{"orderId": "A-1", "status": "paid", "total": 20000, "items": [{"sku": "x"}]}'
SINKS = {"sink_names": ["erp", "audit"]}

STEPS: dict[str, Any] = {
    "filter": 'status = "paid"',
    "route": [{"when": "total > 10000", "to": "erp"}, {"otherwise": "audit"}],
    "set": {"headers": {"order-id": "orderId"}},
    "split": "items",
    "multicast": {"expression": '"erp"'},
    "dedupe": {"key": "orderId"},
    "aggregate": {"key": "orderId", "size": 1},
}


def _decoded(plain: bool) -> Message:
    [message] = DecodeStep(DecodeConfig(format="json")).process_sync(Message(ORDER))
    assert message.plain
    message.plain = plain
    return message


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ``plain`` argument of every expression evaluated."""
    marks: list[bool] = []
    evaluate = Mapping.evaluate

    def spy(self: Mapping, data: Any, **options: Any) -> Any:
        marks.append(options.get("plain", False))
        return evaluate(self, data, **options)

    monkeypatch.setattr(Mapping, "evaluate", spy)
    return marks


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("plain", [True, False])
async def test_a_step_passes_the_plain_mark_to_its_expressions(
    name: str, plain: bool, seen: list[bool], tmp_path: Path
) -> None:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        spec = registry.get("step", name)
        context = Context(tmp_path, "orders", component=f"steps[0].{name}", store=store)
        step = spec.build(spec.parse(STEPS[name], context=SINKS), context)
        outputs = await step.process(_decoded(plain))
    finally:
        await store.close()
    assert outputs  # every step let the order through
    assert seen and set(seen) == {plain}


async def test_a_wiretap_copy_keeps_the_mark() -> None:
    shared = SharedResources()
    group = shared.get("channels", ChannelHub).subscribe("audit", "auditors")
    spec = registry.get("step", "wiretap")
    step = spec.build(spec.parse("audit"), Context(Path("."), "orders", shared=shared))
    await step.open()
    try:
        await step.process(_decoded(True))
        await asyncio.wait_for(group.wait_ready(), 5)
        envelope = group.take()
        assert envelope is not None
        assert envelope.message.plain
        envelope.settle(None)
    finally:
        await step.close()


async def test_a_channel_copy_keeps_the_mark_and_a_new_body_clears_it() -> None:
    hub = ChannelHub()
    group = hub.subscribe("orders", "billing")
    publishing = asyncio.create_task(hub.publish("orders", _decoded(True)))
    await asyncio.wait_for(group.wait_ready(), 5)
    envelope = group.take()
    assert envelope is not None
    copy = envelope.message
    assert copy.plain
    envelope.settle(None)
    assert await publishing == []
    copy.replace_body({"other": 1}, None)
    assert not copy.plain
