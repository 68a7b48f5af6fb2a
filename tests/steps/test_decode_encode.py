"""decode and encode steps: config checked at load, bytes ↔ data, pass-through."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components import registry
from splice.components.context import Context
from splice.errors import CodecError
from splice.message import Message
from splice.steps.decode import DecodeConfig, DecodeStep
from splice.steps.encode import EncodeConfig, EncodeStep

DECODE = registry.get("step", "decode")
ENCODE = registry.get("step", "encode")


def _context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="orders")


def test_shorthand_names_the_format() -> None:
    assert DECODE.parse("json") == DecodeConfig(format="json")
    assert ENCODE.parse({"format": "csv", "options": {"delimiter": ";"}}) == EncodeConfig(
        format="csv", options={"delimiter": ";"}
    )


def test_unknown_format_is_a_config_error_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="unknown codec 'jsn' — did you mean 'json'"):
        DECODE.parse("jsn")


def test_wrong_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="csv option 'delimeter': unknown option"):
        ENCODE.parse({"format": "csv", "options": {"delimeter": ";"}})
    with pytest.raises(ValidationError, match="xml option 'pretty'"):
        DECODE.parse({"format": "xml", "options": {"pretty": "maybe"}})


async def test_decode_turns_bytes_into_data(tmp_path: Path) -> None:
    step = DECODE.build(DECODE.parse("json"), _context(tmp_path))
    message = Message(body=b'{"total": 19.99}', content_type="application/octet-stream")
    (out,) = await step.process(message)
    assert out is message
    assert (out.body, out.content_type) == ({"total": 19.99}, "application/json")


async def test_decode_passes_decoded_bodies_through() -> None:
    step = DecodeStep(DecodeConfig(format="json"))
    message = Message(body={"a": 1}, content_type="application/json")
    assert (await step.process(message))[0].body == {"a": 1}


async def test_decode_failure_is_a_codec_error() -> None:
    step = DecodeStep(DecodeConfig(format="xml"))
    with pytest.raises(CodecError, match="line 1"):
        await step.process(Message(body=b"<a>"))


async def test_encode_turns_data_into_bytes_with_the_codec_options(tmp_path: Path) -> None:
    config = ENCODE.parse({"format": "xml", "options": {"declaration": False}})
    step = ENCODE.build(config, _context(tmp_path))
    (out,) = await step.process(Message(body={"order": {"total": 19.99}}))
    assert (out.body, out.content_type) == (
        b"<order><total>19.99</total></order>",
        "application/xml",
    )


async def test_encode_passes_bytes_through() -> None:
    step = EncodeStep(EncodeConfig(format="csv"))
    message = Message(body=b"a,b\n", content_type="text/csv")
    assert (await step.process(message))[0].body == b"a,b\n"


async def test_quickstart_chain_json_to_xml_and_back_to_csv() -> None:
    message = Message(body=b'{"order": {"@id": "A-1", "total": 19.99}}')
    for step in (
        DecodeStep(DecodeConfig(format="json")),
        EncodeStep(EncodeConfig(format="xml")),
        DecodeStep(DecodeConfig(format="xml")),
    ):
        (message,) = await step.process(message)
    assert message.body == {"order": {"@id": "A-1", "total": "19.99"}}
    message.body = message.body["order"]
    (message,) = await EncodeStep(EncodeConfig(format="csv")).process(message)
    assert (message.body, message.content_type) == (b"@id,total\nA-1,19.99\n", "text/csv")
