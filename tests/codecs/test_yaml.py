"""The yaml codec: safe plain data, errors with line and column, limits."""

from __future__ import annotations

import pytest

from splice.codecs import codec_for_content_type, get_codec
from splice.codecs.yaml import YamlCodec, YamlOptions
from splice.errors import CodecError

codec = YamlCodec()


def test_round_trip_keeps_key_order_and_numbers() -> None:
    value = {"b": 1, "a": [19.99, 21.0, None, True], "s": "é"}
    encoded = codec.encode(value)
    assert encoded == "b: 1\na:\n- 19.99\n- 21.0\n- null\n- true\ns: é\n".encode()
    assert codec.decode(encoded) == value


def test_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(CodecError, match=r"\(at line 3, column 1\)"):
        codec.decode(b"a: 1\nb: [1\n")


def test_python_tags_are_refused() -> None:
    with pytest.raises(CodecError, match="could not determine a constructor"):
        codec.decode(b"!!python/object/apply:os.system ['echo hi']")


def test_max_bytes() -> None:
    with pytest.raises(CodecError, match="max_bytes"):
        YamlCodec(YamlOptions(max_bytes=3)).decode(b"a: 1")


def test_unrepresentable_values_are_codec_errors() -> None:
    with pytest.raises(CodecError, match="cannot write YAML"):
        codec.encode({"a": object()})


@pytest.mark.parametrize("content_type", ["application/yaml", "application/x-yaml"])
def test_content_types(content_type: str) -> None:
    assert isinstance(codec_for_content_type(content_type), YamlCodec)


def test_an_alias_bomb_is_refused_naming_the_alias() -> None:
    bomb = b'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\n'
    with pytest.raises(CodecError, match=r"alias '\*a' refused .*line 2, column 8"):
        get_codec("yaml").decode(bomb)


def test_aliases_are_allowed_up_to_max_aliases() -> None:
    doc = b"base: &base {qty: 1}\nline: *base\n"
    assert get_codec("yaml", {"max_aliases": 1}).decode(doc) == {
        "base": {"qty": 1},
        "line": {"qty": 1},
    }
