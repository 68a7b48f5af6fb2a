"""The text codec: strings in an encoding, errors for anything else."""

from __future__ import annotations

import pytest

from splice.codecs import CodecOptionError, codec_for_content_type, get_codec
from splice.codecs.text import TextCodec, TextOptions
from splice.errors import CodecError


def test_round_trip_in_utf8_and_latin1() -> None:
    assert TextCodec().decode("Zoë".encode()) == "Zoë"
    latin = TextCodec(TextOptions(encoding="latin-1"))
    assert latin.encode("Zoë") == b"Zo\xeb"
    assert latin.decode(b"Zo\xeb") == "Zoë"


def test_bytes_not_in_the_encoding_name_the_byte() -> None:
    with pytest.raises(CodecError, match=r"not utf-8 text.*\(at byte 2\)"):
        TextCodec().decode(b"Zo\xeb")


def test_only_strings_are_encoded() -> None:
    with pytest.raises(CodecError, match="is a dict, not a string"):
        TextCodec().encode({"a": 1})
    with pytest.raises(CodecError, match="cannot write ascii text"):
        TextCodec(TextOptions(encoding="ascii")).encode("é")


def test_unknown_encoding_is_an_option_error() -> None:
    with pytest.raises(CodecOptionError, match=r"text option 'encoding': .*unknown encoding"):
        get_codec("text", {"encoding": "klingon"})


def test_content_type() -> None:
    assert isinstance(codec_for_content_type("text/plain; charset=utf-8"), TextCodec)
