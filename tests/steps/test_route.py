"""The route step: first match wins, all matches, otherwise, unrouted, sink names at load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.config import load_project
from splice.errors import ConfigError, MessageError
from splice.message import Message
from splice.steps.route import SPEC, RouteStep

SINKS = {"sink_names": ["approvals", "erp", "audit"]}
RULES = [
    {"when": "total > 10000", "to": "approvals"},
    {"when": "total > 5000", "to": ["erp", "audit"]},
    {"otherwise": "erp"},
]


def _step(raw: object, tmp_path: Path) -> RouteStep:
    step = SPEC.build(SPEC.parse(raw, context=SINKS), Context(tmp_path, "orders"))
    assert isinstance(step, RouteStep)
    return step


async def test_first_matching_rule_wins(tmp_path: Path) -> None:
    [out] = await _step(RULES, tmp_path).process(Message({"total": 20000}))
    assert out.targets == ("approvals",)
    assert out.headers["splice.route"] == "approvals"


async def test_mode_all_sends_to_every_match(tmp_path: Path) -> None:
    [out] = await _step({"mode": "all", "rules": RULES}, tmp_path).process(Message({"total": 2e4}))
    assert out.targets == ("approvals", "erp", "audit")


async def test_otherwise_takes_what_matches_nothing(tmp_path: Path) -> None:
    [out] = await _step(RULES, tmp_path).process(Message({"total": 1}))
    assert out.targets == ("erp",)


async def test_unmatched_without_otherwise_is_unrouted_not_dropped(tmp_path: Path) -> None:
    step = _step(RULES[:1], tmp_path)
    with pytest.raises(MessageError) as caught:
        await step.process(Message({"total": 1}))
    assert caught.value.code == "unrouted"


def test_unknown_sink_is_a_config_error_on_its_rule() -> None:
    with pytest.raises(ValidationError) as caught:
        SPEC.parse([{"when": "true", "to": "aprovals"}], context=SINKS)
    [error] = caught.value.errors()
    assert error["loc"] == (0, "to")
    assert "unknown sink 'aprovals'" in error["msg"]


def test_otherwise_must_be_last_and_alone() -> None:
    with pytest.raises(ValidationError, match="comes last"):
        SPEC.parse([{"otherwise": "erp"}, {"when": "true", "to": "erp"}], context=SINKS)
    with pytest.raises(ValidationError, match="stands alone"):
        SPEC.parse([{"when": "true", "to": "erp", "otherwise": "erp"}], context=SINKS)


def test_unknown_sink_in_a_flow_file_names_its_line(tmp_path: Path) -> None:
    flow = """
    integration: orders
    source: {channel: {name: orders.in}}
    steps:
      - decode: json
      - route:
          - when: total > 10
            to: aprovals
          - otherwise: erp
    sinks:
      erp: {channel: {name: erp}}
      approvals: {channel: {name: approvals}}
    """
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "orders.yaml").write_text(textwrap.dedent(flow))
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    [problem] = caught.value.problems
    assert problem.line == 8
    assert "unknown sink 'aprovals'" in problem.message
