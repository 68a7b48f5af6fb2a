"""The multicast step (recipient list): static sinks, computed sinks, unknown recipients."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.errors import MessageError
from splice.message import Message
from splice.steps.multicast import SPEC

SINKS = {"sink_names": ["erp", "archive", "crm"]}


async def test_static_list_sets_the_targets(tmp_path: Path) -> None:
    step = SPEC.build(SPEC.parse(["erp", "archive"], context=SINKS), Context(tmp_path, "f"))
    [out] = await step.process(Message({}))
    assert out.targets == ("erp", "archive")


def test_static_unknown_sink_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="unknown sink 'erpp'"):
        SPEC.parse({"to": ["erpp"]}, context=SINKS)


async def test_computed_list_is_checked_against_the_sinks(tmp_path: Path) -> None:
    config = SPEC.parse({"expression": "recipients"}, context=SINKS)
    step = SPEC.build(config, Context(tmp_path, "f"))
    [out] = await step.process(Message({"recipients": ["crm", "erp", "crm"]}))
    assert out.targets == ("crm", "erp")
    with pytest.raises(MessageError) as caught:
        await step.process(Message({"recipients": ["crm", "nowhere"]}))
    assert caught.value.code == "unknown-recipient"
    with pytest.raises(MessageError) as caught:
        await step.process(Message({"recipients": []}))
    assert caught.value.code == "no-recipient"
