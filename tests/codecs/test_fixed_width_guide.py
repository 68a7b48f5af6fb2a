"""The layout and records of docs/guides/fixed-width.md encode and decode into each other."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ruamel.yaml import YAML

from splice.codecs.fixed import FixedWidthCodec, Layout

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "fixed-width.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def test_guide_layout_round_trips_the_guide_records() -> None:
    layout = Layout.model_validate(YAML(typ="safe").load(_blocks("yaml")[1]))
    records = json.loads(_blocks("json")[0])
    codec = FixedWidthCodec.from_layout(layout)
    data = codec.encode(records)
    assert data[:2] == "HD".encode("cp037")
    assert codec.decode(data) == records
