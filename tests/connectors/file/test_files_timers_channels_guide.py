"""Every YAML example of docs/guides/files-timers-channels.md validates as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.components import registry
from splice.components.spec import ComponentSpec

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "files-timers-channels.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def components(flow: dict[str, Any]) -> list[tuple[ComponentSpec, Any]]:
    found = []
    for name, raw in flow.get("source", {}).items():
        found.append((registry.get("source", name), raw))
    for sink in flow.get("sinks", {}).values():
        for name, raw in sink.items():
            found.append((registry.get("sink", name), raw))
    return found


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_the_guide_example_validates(block: str) -> None:
    flow = YAML(typ="safe").load(block)
    found = components(flow)
    assert found
    for spec, raw in found:
        spec.parse(raw)


@pytest.mark.parametrize(
    "spec",
    [registry.get(kind, name) for kind in ("source", "sink") for name in ("file", "channel")]
    + [registry.get("source", "timer")],
    ids=str,
)
def test_the_spec_example_validates(spec: ComponentSpec) -> None:
    [(name, raw)] = YAML(typ="safe").load(spec.example).items()
    assert name == spec.name
    spec.parse(raw)
