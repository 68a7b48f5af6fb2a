"""Every ``on_error:`` example in docs/guides/error-handling.md validates and means what
the guide says it means."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.errors import PermanentError, TransientError
from splice.runtime.policies import OnError, merge_layers

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "error-handling.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, Any]]:
    """Each yaml block of the guide, with the file named in its first comment line."""
    found: list[tuple[str, Any]] = []
    for block in YAML_BLOCK.finditer(GUIDE.read_text()):
        text = block.group(1)
        name = text.splitlines()[0].removeprefix("# ").split(" ")[0]
        found.append((name, YAML(typ="safe").load(text)))
    return found


def first(name: str) -> Any:
    return next(doc for found, doc in BLOCKS if found == name)


def _on_error_blocks(node: Any) -> list[Any]:
    if isinstance(node, dict):
        here = [node["on_error"]] if "on_error" in node else []
        return here + [found for value in node.values() for found in _on_error_blocks(value)]
    return []


BLOCKS = _blocks()


@pytest.mark.parametrize(
    "block",
    [block for _, doc in BLOCKS for block in _on_error_blocks(doc)],
)
def test_every_on_error_example_validates(block: Any) -> None:
    OnError.model_validate(block)


def test_the_guide_has_its_examples() -> None:
    assert len([b for _, doc in BLOCKS for b in _on_error_blocks(doc)]) >= 6


def test_the_written_out_defaults_are_the_defaults() -> None:
    written = first("flows/crm-orders-to-erp.yaml")["on_error"]

    assert OnError.model_validate(written) == OnError()


def test_the_layers_example_gives_what_the_guide_says() -> None:
    project = OnError.model_validate(first("splice.yaml")["on_error"])
    flow_doc = first("flows/orders-to-erp.yaml")
    flow = OnError.model_validate(flow_doc["on_error"])
    sink = OnError.model_validate(flow_doc["sinks"]["erp"]["on_error"])

    policy = merge_layers(project, flow, sink)

    assert (policy.retry.attempts, policy.retry.initial, policy.retry.max) == (3, 2.0, 120.0)
    assert policy.timeout == 10.0
    assert policy.circuit_breaker is None
    others = {"retry", "timeout", "circuit_breaker"}
    assert policy.model_dump(exclude=others) == OnError().model_dump(exclude=others)


def test_the_classify_example_does_what_its_comments_say() -> None:
    texts = GUIDE.read_text()
    start = texts.index("  classify:\n    transient: [409")
    block = YAML(typ="safe").load(texts[start : texts.index("```", start)])
    classify = OnError.model_validate(block).classify

    assert classify.is_transient(PermanentError("replica lagging", status=409))
    assert classify.is_transient(TransientError("locked", code="erp-locked"))
    assert not classify.is_transient(TransientError("quota", code="quota-exceeded"))
