"""Every YAML example of docs/guides/kafka.md validates through the registry."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import GUIDES, validate_fragment, yaml_blocks

BLOCKS = yaml_blocks("kafka.md")


def test_the_guide_has_its_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    assert "kafka" in validate_fragment(YAML(typ="safe").load(block))


@pytest.mark.parametrize(
    "document",
    [{"source": {"kafka": "orders.created"}}, {"sinks": {"events": {"kafka": "orders"}}}],
)
def test_the_guide_shorthands_validate(document: dict[str, Any]) -> None:
    assert validate_fragment(document) == ["kafka"]


def test_the_guide_says_plainly_what_was_not_tested() -> None:
    text = (GUIDES / "kafka.md").read_text()
    assert "## Not tested against a real Kafka broker" in text
    assert "idempotent producer" in text
