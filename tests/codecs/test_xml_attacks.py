"""Hostile XML from the shared corpus is refused quickly, with nothing fetched or read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from splice.codecs.xml import XmlCodec, XmlOptions
from splice.errors import CodecError

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "xml-attacks"
CONTROLS = {"simple.xml", "simple-ns.xml"}
DTD_CONTROL = "dtd_element.xml"
FILES = sorted(CORPUS.rglob("*.xml"))
ATTACKS = [p for p in FILES if p.name not in CONTROLS and p.name != DTD_CONTROL]
LINES = [
    line
    for name in ("xml-attacks.txt", "XXE_Fuzzing.txt")
    for line in (CORPUS / "payloadsallthethings" / "files" / name).read_bytes().splitlines()
    if line.strip()
]

strict = XmlCodec()
lenient = XmlCodec(XmlOptions(allow_dtd=True))


def test_the_corpus_is_there() -> None:
    assert len(ATTACKS) >= 13
    assert len(LINES) > 100


@pytest.mark.parametrize("codec", [strict, lenient], ids=["default", "allow_dtd"])
@pytest.mark.parametrize("path", ATTACKS, ids=lambda p: p.name)
def test_every_attack_file_is_refused_quickly(codec: XmlCodec, path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(CodecError):
        codec.decode(path.read_bytes())
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("codec", [strict, lenient], ids=["default", "allow_dtd"])
def test_fuzz_payloads_never_expand_entities_or_read_files(codec: XmlCodec) -> None:
    for line in LINES:
        started = time.perf_counter()
        try:
            value = codec.decode(line)
        except CodecError:
            continue
        finally:
            assert time.perf_counter() - started < 1
        assert b"<!ENTITY" not in line
        assert "root:" not in repr(value)


@pytest.mark.parametrize("codec", [strict, lenient], ids=["default", "allow_dtd"])
@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_benign_controls_parse(codec: XmlCodec, name: str) -> None:
    value = codec.decode(next(p for p in FILES if p.name == name).read_bytes())
    assert value["root"]["element"] == [{"@key": "value", "#text": "text"}, "text"]
    assert value["root"]["empty-element"] is None


def test_dtd_control_is_refused_by_default_and_parses_with_allow_dtd() -> None:
    data = next(p for p in FILES if p.name == DTD_CONTROL).read_bytes()
    with pytest.raises(CodecError, match="DOCTYPE is refused"):
        strict.decode(data)
    assert lenient.decode(data) == {"test": {"node": "A test"}}


def test_entity_declarations_are_refused_even_with_allow_dtd() -> None:
    with pytest.raises(CodecError, match="ENTITY"):
        lenient.decode(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')


def test_external_dtd_is_never_fetched_and_refused() -> None:
    doc = b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>'
    with pytest.raises(CodecError, match="external DTD"):
        lenient.decode(doc)


def test_a_local_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f'<!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'.encode()
    for codec in (strict, lenient):
        with pytest.raises(CodecError) as caught:
            codec.decode(doc)
        assert "TOP-SECRET" not in str(caught.value)


def test_undeclared_entity_reference_is_refused() -> None:
    with pytest.raises(CodecError, match="not well-formed"):
        strict.decode(b"<a>&x;</a>")


def test_doctype_hidden_behind_a_comment_is_still_refused() -> None:
    doc = b'<!-- <x --><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    for codec in (strict, lenient):
        with pytest.raises(CodecError):
            codec.decode(doc)
