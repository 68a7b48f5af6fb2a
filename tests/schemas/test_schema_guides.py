"""Every YAML example of the SOAP, Avro and schema registry guides loads as a flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from splice.config import load_flow
from splice.settings import ProjectSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "guides"
GUIDES = ("soap.md", "avro.md", "schema-registry.md")
BLOCKS = [
    pytest.param(block, id=f"{guide}:{number}")
    for guide in GUIDES
    for number, block in enumerate(
        re.findall(r"^```yaml\n(.*?)^```", (DOCS / guide).read_text(), re.S | re.M), 1
    )
]


@pytest.mark.parametrize("block", BLOCKS)
def test_the_guide_example_loads_as_a_flow(
    block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERP_SOAP_PASSWORD", "not-a-real-password")
    (tmp_path / "flows").mkdir()
    path = tmp_path / "flows" / "example.yaml"
    path.write_text(block)
    flow = load_flow(path, project_dir=tmp_path, settings=ProjectSettings())
    assert flow.name


def test_every_guide_has_examples() -> None:
    assert {param.id.split(":")[0] for param in BLOCKS} == set(GUIDES)
