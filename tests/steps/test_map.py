"""The map step: config, decoding, $headers, lookups, undefined handling, build-time errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.errors import MappingError, MessageError
from splice.message import Message
from splice.settings import ProjectSettings
from splice.steps.map import SPEC, MapConfig, MapStep


def _step(raw: object, tmp_path: Path, **settings: object) -> MapStep:
    config = SPEC.parse(raw)
    assert isinstance(config, MapConfig)
    context = Context(tmp_path, "orders", ProjectSettings.model_validate(settings))
    return MapStep(config, context)


def test_example_config_parses() -> None:
    config = SPEC.parse('{"total": $sum(items.(qty * price))}')
    assert isinstance(config, MapConfig)
    assert config.expression is not None


def test_expression_or_file_exactly_one() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SPEC.parse({"expression": "a", "file": "m.jsonata"})
    with pytest.raises(ValidationError, match="exactly one"):
        SPEC.parse({})


async def test_map_replaces_the_body_with_exact_money(tmp_path: Path) -> None:
    step = _step('{"total": $sum(items.(qty * price))}', tmp_path)
    message = Message({"items": [{"qty": 2, "price": 5.5}, {"qty": 1, "price": 10}]})
    [out] = await step.process(message)
    assert out is message
    assert out.body == {"total": 21}


async def test_map_decodes_json_bytes(tmp_path: Path) -> None:
    step = _step("a + b", tmp_path)
    [out] = await step.process(Message(b'{"a": 0.1, "b": 0.2}', content_type="application/json"))
    assert out.body == 0.3
    assert out.content_type is None


async def test_map_refuses_non_json_bytes(tmp_path: Path) -> None:
    step = _step("a", tmp_path)
    with pytest.raises(MessageError, match="add a 'decode' step"):
        await step.process(Message(b"<a/>", content_type="application/xml"))
    with pytest.raises(MessageError, match="add a 'decode' step"):
        await step.process(Message(b"not json"))


async def test_map_sees_headers(tmp_path: Path) -> None:
    step = _step('{"id": $headers.`order-id`}', tmp_path)
    [out] = await step.process(Message({}, headers={"order-id": "42"}))
    assert out.body == {"id": "42"}


async def test_undefined_result_is_an_error_by_default(tmp_path: Path) -> None:
    step = _step("missing", tmp_path)
    with pytest.raises(MappingError, match="mapping produced no value"):
        await step.process(Message({}))


async def test_undefined_result_dropped_when_asked(tmp_path: Path) -> None:
    step = _step({"expression": "missing", "on_undefined": "drop"}, tmp_path)
    assert await step.process(Message({})) == []


async def test_null_result_is_kept(tmp_path: Path) -> None:
    step = _step("a", tmp_path)
    [out] = await step.process(Message({"a": None}))
    assert out.body is None


def test_bad_expression_fails_at_build(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        _step('{"a": }', tmp_path)
    assert caught.value.code.startswith("S0")


async def test_expression_from_file(tmp_path: Path) -> None:
    (tmp_path / "order.jsonata").write_text("qty * price\n")
    step = _step({"file": "order.jsonata"}, tmp_path)
    [out] = await step.process(Message({"qty": 3, "price": 19.99}))
    assert out.body == 59.97


async def test_lookup_tables_load_once_per_engine(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("code,name\nDE,Germany\n")
    settings = ProjectSettings(lookups={"countries": "c.csv"})
    context = Context(tmp_path, "orders", settings)
    first = MapStep(MapConfig(expression='$lookup("countries", c)'), context)
    MapStep(MapConfig(expression='$lookup("countries", "FR")'), context.at("steps[1].map"))
    tables = context.shared.peek("mapping.lookups")
    assert tables is not None
    [out] = await first.process(Message({"c": "DE"}))
    assert out.body == "Germany"
    assert context.shared.peek("mapping.lookups") is tables


async def test_evaluation_error_carries_the_jsonata_code(tmp_path: Path) -> None:
    step = _step("a + 1", tmp_path)
    with pytest.raises(MappingError) as caught:
        await step.process(Message({"a": "x"}))
    assert caught.value.code == "T2001"
