"""The examples of docs/guides/edi.md decode to the JSON shown next to them, and back."""

from __future__ import annotations

import json
import re
from pathlib import Path

from splice.codecs.edifact import EdifactCodec
from splice.codecs.x12 import X12Codec

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "edi.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", GUIDE.read_text(), re.S | re.M)


def test_x12_example_decodes_to_the_documented_json_and_back() -> None:
    data, expected = _blocks("text")[0].encode(), json.loads(_blocks("json")[0])
    codec = X12Codec()
    assert codec.decode(data) == expected
    assert codec.encode(expected) == data


def test_edifact_example_decodes_to_the_documented_json_and_back() -> None:
    data, expected = _blocks("text")[1].encode(), json.loads(_blocks("json")[1])
    codec = EdifactCodec()
    assert codec.decode(data) == expected
    assert codec.encode(expected) == data
