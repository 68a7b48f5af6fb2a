"""Every X12 corpus sample round-trips, or is known to be malformed and fails naming the segment."""

from __future__ import annotations

import pytest

from splice.codecs.x12 import X12Codec, X12Options, acknowledge
from splice.errors import CodecError

from ._corpus import CORPUS, MALFORMED, samples, without_line_breaks

VALID = [name for name in samples() if name not in MALFORMED]


def test_corpus_is_present_and_classified() -> None:
    assert len(samples()) > 60
    assert set(MALFORMED) <= set(samples())


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_round_trips(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    codec = X12Codec()
    generated = codec.encode(codec.decode(data))
    assert without_line_breaks(generated) == without_line_breaks(data)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_sample_fails_naming_the_segment(name: str) -> None:
    expected, _ = MALFORMED[name]
    with pytest.raises(CodecError, match=expected):
        X12Codec().decode((CORPUS / name).read_bytes())


@pytest.mark.parametrize("name", sorted(n for n, (_, relaxed) in MALFORMED.items() if relaxed))
def test_malformed_sample_round_trips_when_relaxed(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    codec = X12Codec(X12Options.model_validate(MALFORMED[name][1]))
    assert without_line_breaks(codec.encode(codec.decode(data))) == without_line_breaks(data)


@pytest.mark.parametrize("kind", ["997", "999"])
@pytest.mark.parametrize("name", VALID)
def test_acknowledgement_of_sample_parses_back_with_counts(name: str, kind: str) -> None:
    codec = X12Codec()
    received = codec.decode((CORPUS / name).read_bytes())
    first = received.get("interchange") or received["interchanges"][0]
    ack = acknowledge(received, kind)  # type: ignore[arg-type]
    parsed = codec.decode(codec.encode(ack))
    assert parsed == ack
    groups = parsed["interchange"]["groups"]
    assert len(groups) == len(first["groups"])
    for group, ack_group in zip(first["groups"], groups, strict=True):
        ak9 = ack_group["transactions"][0]["segments"][-1]
        received_count = str(len(group["transactions"]))
        assert ak9 == {
            "id": "AK9",
            "elements": ["A", received_count, received_count, received_count],
        }
