"""The remove step: headers removed by exact name and by glob pattern."""

from __future__ import annotations

from pathlib import Path

from splice.components.context import Context
from splice.message import Message
from splice.steps.headers import SPEC


async def test_remove_by_name_and_glob_keeps_the_rest(tmp_path: Path) -> None:
    step = SPEC.build(SPEC.parse(["authorization", "x-internal-*"]), Context(tmp_path, "f"))
    headers = {"authorization": "Bearer t", "x-internal-a": "1", "x-internal-b": "2", "k": "v"}
    [out] = await step.process(Message({}, headers=headers))
    assert out.headers == {"k": "v"}
