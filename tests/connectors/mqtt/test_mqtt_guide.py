"""Every YAML example of docs/guides/mqtt.md validates through the registry, as do the specs'."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import validate_fragment, yaml_blocks

from splice.components import registry

BLOCKS = yaml_blocks("mqtt.md")
validate = validate_fragment


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    assert "mqtt" in validate(YAML(typ="safe").load(block))


@pytest.mark.parametrize(
    "document",
    [{"source": {"mqtt": ["plant/#"]}}, {"sinks": {"plant": {"mqtt": "plant/line-1/setpoint"}}}],
)
def test_the_guide_shorthands_validate(document: dict[str, Any]) -> None:
    assert validate(document) == ["mqtt"]


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any) -> None:
    spec = registry.get(kind, "mqtt")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "mqtt"
    spec.parse(raw)


def test_a_persistent_session_needs_a_client_id() -> None:
    with pytest.raises(ValueError, match="client_id"):
        registry.get("source", "mqtt").parse({"topics": ["a/#"], "clean_session": False})


@pytest.mark.parametrize("topic", ["a/#/b", "a/b#", "a/x+/c", ""])
def test_invalid_topic_filters_are_refused(topic: str) -> None:
    with pytest.raises(ValueError, match="topic filter"):
        registry.get("source", "mqtt").parse({"topics": [topic]})


def test_the_sink_needs_a_topic_and_never_a_wildcard() -> None:
    with pytest.raises(ValueError, match="topic"):
        registry.get("sink", "mqtt").parse({})
    with pytest.raises(ValueError, match="wildcard"):
        registry.get("sink", "mqtt").parse({"topic": "a/+"})


def test_validating_a_flow_does_not_import_the_client_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from splice.components import registry;"
        "registry.get('sink', 'mqtt').parse({'topic': 'x'});"
        "registry.get('source', 'mqtt').parse({'topics': ['q']});"
        "assert 'aiomqtt' not in sys.modules and 'paho' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
