"""The json codec: JSONTestSuite conformance, exact numbers, limits, errors with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from splice.codecs import CodecOptionError, codec_for_content_type, get_codec
from splice.codecs.json import JsonCodec, JsonOptions
from splice.components.registry import UnknownComponent
from splice.errors import CodecError, ConfigError

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "json-test-suite"
CASES = sorted((SUITE / "test_parsing").glob("*.json"))

ACCEPTED_I_CASES = {
    "i_number_too_big_neg_int.json",
    "i_number_too_big_pos_int.json",
    "i_number_very_big_negative_int.json",
    "i_structure_500_nested_arrays.json",
    "i_structure_UTF-8_BOM_empty_object.json",
}

codec = JsonCodec()


def _named(prefix: str) -> list[Path]:
    return [case for case in CASES if case.name.startswith(prefix)]


@pytest.mark.parametrize("case", _named("y_"), ids=lambda p: p.name)
def test_every_valid_document_parses(case: Path) -> None:
    codec.decode(case.read_bytes())


@pytest.mark.parametrize("case", _named("n_"), ids=lambda p: p.name)
def test_every_invalid_document_is_refused_with_its_position(case: Path) -> None:
    with pytest.raises(CodecError) as caught:
        codec.decode(case.read_bytes())
    assert caught.value.position is not None
    assert caught.value.position.startswith("line ")


@pytest.mark.parametrize("case", _named("i_"), ids=lambda p: p.name)
def test_implementation_defined_cases_follow_the_documented_decision(case: Path) -> None:
    if case.name in ACCEPTED_I_CASES:
        codec.decode(case.read_bytes())
    else:
        with pytest.raises(CodecError):
            codec.decode(case.read_bytes())


def test_the_suite_is_there() -> None:
    assert len(CASES) > 300


def test_money_keeps_its_digits() -> None:
    assert codec.encode(codec.decode(b'{"total":19.99,"tax":21.0,"n":3}')) == (
        b'{"total":19.99,"tax":21.0,"n":3}'
    )


def test_integers_beyond_64_bits_keep_every_digit() -> None:
    text = b'{"id":123456789012345678901234567890,"neg":-99999999999999999999}'
    value = codec.decode(text)
    assert value == {"id": 123456789012345678901234567890, "neg": -99999999999999999999}
    assert codec.encode(value) == text


def test_long_digit_strings_stay_strings() -> None:
    assert codec.decode(b'["12345678901234567890123"]') == ["12345678901234567890123"]


def test_numbers_too_large_or_too_small_for_a_double_are_refused() -> None:
    with pytest.raises(CodecError, match="infinity"):
        codec.decode(b"[1e999]")
    with pytest.raises(CodecError, match="infinity"):
        codec.decode(b"[-2.5E+400]")
    with pytest.raises(CodecError, match="too small"):
        codec.decode(b"[1.5e-400]")
    assert codec.decode(b"[0e-999]") == [0.0]


def test_error_names_line_and_column() -> None:
    with pytest.raises(CodecError, match=r"at line 2, column 3"):
        codec.decode(b'{"a":\n  oops}')


def test_invalid_utf8_is_refused_with_its_place() -> None:
    with pytest.raises(CodecError, match=r"invalid UTF-8 \(at line 2, column 2\)"):
        codec.decode(b'{"a":\n"\xff"}')


def test_max_bytes() -> None:
    small = JsonCodec(JsonOptions(max_bytes=4))
    with pytest.raises(CodecError, match="max_bytes"):
        small.decode(b'{"a": 1}')


def test_max_depth() -> None:
    shallow = JsonCodec(JsonOptions(max_depth=2))
    assert shallow.decode(b"[[1]]") == [[1]]
    with pytest.raises(CodecError, match="max_depth"):
        shallow.decode(b'[{"a":[1]}]')


def test_decimals_are_written_exactly() -> None:
    from decimal import Decimal

    assert codec.encode({"price": Decimal("19.990")}) == b'{"price":19.990}'


def test_unencodable_values_are_codec_errors() -> None:
    with pytest.raises(CodecError, match="cannot encode"):
        codec.encode({"a": object()})


def test_pretty() -> None:
    assert JsonCodec(JsonOptions(pretty=True)).encode({"a": [1]}) == b'{\n  "a": [\n    1\n  ]\n}'


def test_get_codec_validates_options_by_name() -> None:
    assert isinstance(get_codec("json", {"max_depth": 3}), JsonCodec)
    with pytest.raises(CodecOptionError, match="json option 'max_dept': unknown option") as bad:
        get_codec("json", {"max_dept": 3})
    assert "did you mean 'max_depth'" in str(bad.value)
    assert isinstance(bad.value, ConfigError)


def test_unknown_codec_suggests_a_name() -> None:
    with pytest.raises(UnknownComponent, match="did you mean 'json'"):
        get_codec("jsn")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json"],
)
def test_json_content_types(content_type: str) -> None:
    assert isinstance(codec_for_content_type(content_type), JsonCodec)


def test_unknown_content_type_has_no_codec() -> None:
    assert codec_for_content_type("application/octet-stream") is None
    assert codec_for_content_type(None) is None
