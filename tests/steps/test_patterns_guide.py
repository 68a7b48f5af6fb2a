"""Every yaml example of docs/guides/patterns.md parses through the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from splice.components import registry

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "patterns.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)
_YAML = YAML(typ="safe", pure=True)
CONTEXT = {"project_dir": GUIDE.parent, "sink_names": ["erp", "approvals", "archive", "audit"]}


@pytest.mark.parametrize("block", BLOCKS)
def test_guide_example_parses(block: str) -> None:
    [(name, raw)] = _YAML.load(block).items()
    spec = registry.get("step", name)
    spec.parse(raw, context=CONTEXT)


def test_every_pattern_step_is_shown() -> None:
    shown = {next(iter(_YAML.load(block))) for block in BLOCKS}
    assert shown >= {"filter", "route", "multicast", "split", "aggregate", "enrich"}
    assert shown >= {"dedupe", "throttle", "wiretap", "remove", "log"}
