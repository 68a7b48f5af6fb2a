"""The YAML examples of the connector guides that have no test of their own validate
through the registry, as do their connectors' spec examples."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML
from tests.guides import validate_fragment, yaml_blocks

from splice.components import registry

GUIDES = {"nats.md": "nats", "redis.md": "redis"}
EXAMPLES = [
    pytest.param(block, connector, id=f"{guide}:{block.splitlines()[0]}")
    for guide, connector in GUIDES.items()
    for block in yaml_blocks(guide)
]


@pytest.mark.parametrize(("block", "connector"), EXAMPLES)
def test_the_guide_example_validates(block: str, connector: str) -> None:
    assert connector in validate_fragment(YAML(typ="safe").load(block))


@pytest.mark.parametrize("connector", sorted(GUIDES.values()))
@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: str, connector: str) -> None:
    spec = registry.get(kind, connector)
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == connector
    spec.parse(raw)
