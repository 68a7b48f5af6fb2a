"""Every YAML example of docs/guides/amqp.md validates through the registry, as do the specs'."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import validate_fragment, yaml_blocks

from splice.components import registry

BLOCKS = yaml_blocks("amqp.md")
validate = validate_fragment


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    assert "amqp" in validate(YAML(typ="safe").load(block))


@pytest.mark.parametrize(
    "document",
    [{"source": {"amqp": "orders.created"}}, {"sinks": {"erp": {"amqp": "orders"}}}],
)
def test_the_guide_shorthands_validate(document: dict[str, Any]) -> None:
    assert validate(document) == ["amqp"]


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any) -> None:
    spec = registry.get(kind, "amqp")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "amqp"
    spec.parse(raw)


def test_mandatory_needs_confirm() -> None:
    with pytest.raises(ValueError, match="confirm"):
        registry.get("sink", "amqp").parse({"mandatory": True, "confirm": False})


def test_the_url_must_be_amqp() -> None:
    with pytest.raises(ValueError, match="amqp://"):
        registry.get("source", "amqp").parse({"queue": "q", "url": "http://broker/"})


def test_validating_a_flow_does_not_import_the_client_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from splice.components import registry;"
        "registry.get('sink', 'amqp').parse({'exchange': 'x'});"
        "registry.get('source', 'amqp').parse({'queue': 'q'});"
        "assert 'aiormq' not in sys.modules, 'aiormq imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
