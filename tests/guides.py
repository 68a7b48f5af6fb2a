"""Checking a connector guide: its YAML flow fragments validate through the registry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from splice.components import registry

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "guides"


def yaml_blocks(guide: str) -> list[str]:
    """Every ```yaml block of ``docs/guides/<guide>``."""
    return re.findall(r"^```yaml\n(.*?)^```", (GUIDES / guide).read_text(), re.S | re.M)


def validate_fragment(document: dict[str, Any]) -> list[str]:
    """Validate every source and sink of a flow fragment; the names of those validated."""
    checked = []
    for name, raw in document.get("source", {}).items():
        registry.get("source", name).parse(raw)
        checked.append(name)
    for sink in document.get("sinks", {}).values():
        for name, raw in sink.items():
            registry.get("sink", name).parse(raw)
            checked.append(name)
    return checked
