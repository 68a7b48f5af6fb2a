"""Every YAML example of docs/guides/http.md validates as written, and so do the spec examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.components import registry
from splice.settings import ProjectSettings

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "http.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def validate(document: dict[str, Any]) -> int:
    checked = 0
    if "http" in document:
        ProjectSettings.model_validate(document)
        checked += 1
    for name, raw in document.get("source", {}).items():
        registry.get("source", name).parse(raw)
        checked += 1
    for sink in document.get("sinks", {}).values():
        for name, raw in sink.items():
            registry.get("sink", name).parse(raw)
            checked += 1
    return checked


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    assert validate(YAML(typ="safe").load(block)) == 1


@pytest.mark.parametrize(
    "document",
    [{"source": {"http": "/crm/orders"}}, {"sinks": {"erp": {"http": "https://erp.example.com"}}}],
)
def test_the_guide_shorthands_validate(document: dict[str, Any]) -> None:
    assert validate(document) == 1


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any) -> None:
    spec = registry.get(kind, "http")
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == "http"
    spec.parse(raw)
