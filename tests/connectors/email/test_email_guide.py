"""Every YAML example of docs/guides/email.md validates as written, through the registry."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.guides import validate_fragment

from splice.secrets import resolve

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "email.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[1].strip() for b in BLOCKS])
def test_the_guide_example_validates(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "SMTP_PASSWORD", "example-password")
    monkeypatch.setitem(os.environ, "IMAP_PASSWORD", "example-password")
    document: dict[str, Any] = YAML(typ="safe").load(resolve(block, GUIDE.parent))
    assert len(validate_fragment(document)) == 1
