"""Every EDIFACT corpus sample round-trips, or is known to be malformed and fails naming it."""

from __future__ import annotations

import pytest

from splice.codecs.edifact import EdifactCodec, EdifactOptions, acknowledge
from splice.errors import CodecError

from ._corpus import CORPUS, MALFORMED, NON_CANONICAL_ESCAPES, samples, without_line_breaks

VALID = [name for name in samples() if name not in MALFORMED]


def test_corpus_is_present_and_classified() -> None:
    assert len(samples()) > 40
    assert set(MALFORMED) | NON_CANONICAL_ESCAPES <= set(samples())


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_round_trips(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    codec = EdifactCodec()
    decoded = codec.decode(data)
    generated = codec.encode(decoded)
    if name in NON_CANONICAL_ESCAPES:
        assert codec.decode(generated) == decoded
    else:
        assert without_line_breaks(generated) == without_line_breaks(data)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_sample_fails_naming_the_segment(name: str) -> None:
    with pytest.raises(CodecError, match=MALFORMED[name][0]):
        EdifactCodec().decode((CORPUS / name).read_bytes())


@pytest.mark.parametrize("name", sorted(n for n, (_, relaxed) in MALFORMED.items() if relaxed))
def test_malformed_sample_round_trips_when_relaxed(name: str) -> None:
    options = EdifactOptions.model_validate(MALFORMED[name][1])
    data = (CORPUS / name).read_bytes()
    codec = EdifactCodec(options)
    decoded = codec.decode(data)
    if name in NON_CANONICAL_ESCAPES:
        assert codec.decode(codec.encode(decoded)) == decoded
        return
    generated = without_line_breaks(codec.encode(decoded), options.encoding)
    original = without_line_breaks(data, options.encoding)
    if "UNZ+" not in original:  # the missing trailer is computed
        generated = generated[: generated.rindex("UNZ+")]
    assert generated == original


@pytest.mark.parametrize("name", VALID)
def test_contrl_for_sample_parses_back_with_counts(name: str) -> None:
    codec = EdifactCodec()
    received = codec.decode((CORPUS / name).read_bytes())
    first = received.get("interchange") or received["interchanges"][0]
    contrl = acknowledge(received)
    assert codec.decode(codec.encode(contrl)) == contrl
    segments = contrl["interchange"]["messages"][0]["segments"]
    ucms = [s for s in segments if s.get("id") == "UCM"] + [
        s for g in segments if "group" in g for s in g["segments"] if s["id"] == "UCM"
    ]
    messages = len(first.get("messages", [])) + sum(
        len(g["messages"]) for g in first.get("groups", [])
    )
    assert len(ucms) == messages
    assert segments[0]["elements"][3] == "7"
