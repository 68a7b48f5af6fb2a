"""docs/reference/ is generated from the component registry: the committed files are current."""

from __future__ import annotations

from pathlib import Path

from splice import docsgen

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"


def test_committed_reference_docs_are_up_to_date() -> None:
    stale = docsgen.stale(REFERENCE)

    assert not stale, f"docs/reference/ is stale ({', '.join(stale)}): run `splice docs`"
