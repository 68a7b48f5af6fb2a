"""The split step: by JSONata path, by CSV/JSON lines/XML records, empty arrays, headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.message import Message
from splice.steps.split import SPEC, SplitStep


def _step(raw: object, tmp_path: Path) -> SplitStep:
    step = SPEC.build(SPEC.parse(raw), Context(tmp_path, "orders"))
    assert isinstance(step, SplitStep)
    return step


async def test_path_splits_an_array_keeping_the_correlation_id(tmp_path: Path) -> None:
    parent = Message({"items": [{"sku": "a"}, {"sku": "b"}]})
    children = await _step("items", tmp_path).process(parent)
    assert [child.body for child in children] == [{"sku": "a"}, {"sku": "b"}]
    assert {child.correlation_id for child in children} == {parent.correlation_id}
    assert [child.headers["split.index"] for child in children] == ["0", "1"]
    assert children[1].headers["split.total"] == "2"
    assert children[0].headers["split.parent"] == parent.id
    assert children[0].id != parent.id


async def test_empty_array_gives_no_message_and_is_counted(tmp_path: Path) -> None:
    step = _step("items", tmp_path)
    assert await step.process(Message({"items": []})) == []
    assert await step.process(Message({})) == []
    assert step.stats() == {"split": 2, "children": 0, "empty": 2}


async def test_csv_bytes_split_by_row(tmp_path: Path) -> None:
    step = _step({"format": "csv", "options": {"delimiter": ";"}}, tmp_path)
    children = await step.process(Message(b"sku;qty\na;1\nb;2\n", content_type="text/csv"))
    assert [child.body for child in children] == [
        {"sku": "a", "qty": "1"},
        {"sku": "b", "qty": "2"},
    ]
    assert children[0].content_type == "text/csv"


async def test_jsonl_bytes_split_by_line(tmp_path: Path) -> None:
    children = await _step({"format": "jsonl"}, tmp_path).process(Message(b'{"a":1}\n{"a":2}\n'))
    assert [child.body for child in children] == [{"a": 1}, {"a": 2}]


async def test_xml_split_by_element(tmp_path: Path) -> None:
    xml = b"<Orders><Order id='1'><Total>5</Total></Order><Order id='2'/></Orders>"
    children = await _step({"format": "xml", "element": "Order"}, tmp_path).process(Message(xml))
    assert len(children) == 2
    assert children[0].body["Order"]["Total"] == "5"


def test_config_errors() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SPEC.parse({"path": "a", "format": "csv"})
    with pytest.raises(ValidationError, match="element"):
        SPEC.parse({"format": "xml"})
    with pytest.raises(ValidationError, match="unknown codec"):
        SPEC.parse({"format": "csvv"})
