"""Every YAML example of docs/guides/sftp.md validates as written, through the registry."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.components import registry
from splice.secrets import resolve

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "sftp.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[1].strip() for b in BLOCKS])
def test_the_guide_example_validates(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "SFTP_PASSWORD", "example-password")
    document: dict[str, Any] = YAML(typ="safe").load(resolve(block, GUIDE.parent))
    checked = 0
    for kind, section in (("source", "sources"), ("sink", "sinks")):
        for component in document.get(section, {}).values():
            for name, raw in component.items():
                assert name == "sftp"
                registry.get(kind, name).parse(raw)
                checked += 1
    assert checked == 1


@pytest.mark.parametrize("kind", ["source", "sink"])
def test_the_spec_example_validates(kind: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "SFTP_PASSWORD", "example-password")
    spec = registry.get(kind, "sftp")
    [(key, raw)] = YAML(typ="safe").load(resolve(spec.example, GUIDE.parent)).items()
    assert key == "sftp"
    spec.parse(raw)
