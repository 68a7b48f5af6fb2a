"""Every YAML example of docs/guides/nats.md validates through the registry, as do the specs'."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import validate_fragment, yaml_blocks

from splice.components import registry

BLOCKS = yaml_blocks("nats.md")


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    assert "nats" in validate_fragment(YAML(typ="safe").load(block))


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any) -> None:
    spec = registry.get(kind, "nats")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "nats"
    spec.parse(raw)
