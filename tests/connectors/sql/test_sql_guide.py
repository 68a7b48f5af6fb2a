"""Every YAML example of the NATS, Redis and SQL guides validates through the registry,
and so do the spec examples of the three connectors."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import GUIDES, validate_fragment, yaml_blocks

from splice.components import registry

BLOCKS = [
    (guide, block) for guide in ("nats", "redis", "sql") for block in yaml_blocks(f"{guide}.md")
]


@pytest.mark.parametrize(
    ("guide", "block"), BLOCKS, ids=[f"{g}:{b.splitlines()[0]}" for g, b in BLOCKS]
)
def test_the_guide_example_validates(guide: str, block: str) -> None:
    assert validate_fragment(YAML(typ="safe").load(block)) == [guide]


def test_every_guide_has_examples() -> None:
    assert {guide for guide, _ in BLOCKS} == {"nats", "redis", "sql"}


@pytest.mark.parametrize(
    "document",
    [
        {"source": {"nats": "orders.created"}},
        {"sinks": {"out": {"nats": "orders.created"}}},
        {"sinks": {"out": {"redis": "orders.created"}}},
    ],
)
def test_the_guide_shorthands_validate_fragment(document: dict[str, Any]) -> None:
    assert len(validate_fragment(document)) == 1


@pytest.mark.parametrize("kind", ["source", "sink"])
@pytest.mark.parametrize("name", ["nats", "redis", "sql"])
def test_the_spec_example_validates(kind: Any, name: str) -> None:
    spec = registry.get(kind, name)
    [(key, raw)] = YAML(typ="safe").load(spec.example).items()
    assert key == name
    spec.parse(raw)


def test_the_example_project_flow_validates() -> None:
    flow = GUIDES.parents[1] / "examples" / "postgres-to-nats" / "flows" / "new-orders.yaml"
    assert validate_fragment(YAML(typ="safe").load(flow.read_text())) == ["sql", "nats"]
