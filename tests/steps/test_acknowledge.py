"""The x12_ack step: a decoded interchange becomes its 997/999, which encodes and decodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.codecs import get_codec
from splice.components import registry
from splice.errors import MessageError
from splice.message import Message
from splice.steps.acknowledge import SPEC, AcknowledgeConfig, AcknowledgeStep

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpora" / "x12" / "node_x12" / "test" / "test-data"

PO = (
    "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         "
    "*240101*1200*^*00501*000000042*0*P*:~\n"
    "GS*PO*BUYER*SELLER*20240101*1200*7*X*005010~\n"
    "ST*850*0001~\n"
    "BEG*00*SA*PO-1**20240101~\n"
    "PO1*1*10*EA*9.25**VN*ABC-1~\n"
    "CTT*1~\n"
    "SE*5*0001~\n"
    "GE*1*7~\n"
    "IEA*1*000000042~\n"
)


def _step(raw: object) -> AcknowledgeStep:
    config = SPEC.parse(raw)
    assert isinstance(config, AcknowledgeConfig)
    return AcknowledgeStep(config)


def _segments(transaction: dict[str, object]) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}

    def walk(items: object) -> None:
        for item in items if isinstance(items, list) else []:
            if "loop" in item:
                walk(item["segments"])
            else:
                found[item["id"]] = item["elements"]

    walk(transaction["segments"])
    return found


def test_the_step_is_registered() -> None:
    assert registry.get("step", "x12_ack").name == "x12_ack"


def test_shorthand_and_bad_kind() -> None:
    config = SPEC.parse("999")
    assert isinstance(config, AcknowledgeConfig)
    assert config.kind == "999"
    with pytest.raises(ValidationError):
        SPEC.parse({"kind": "998"})


async def test_a_997_acknowledges_the_control_numbers() -> None:
    codec = get_codec("x12")
    message = Message(codec.decode(PO.encode()))
    [out] = await _step({"kind": "997"}).process(message)
    ack = out.body["interchange"]
    assert ack["ISA"]["ISA06"].strip() == "SELLER"
    assert ack["ISA"]["ISA08"].strip() == "BUYER"
    assert ack["ISA"]["ISA13"] == "000000042"
    [group] = ack["groups"]
    assert group["GS"]["GS01"] == "FA"
    [transaction] = group["transactions"]
    assert transaction["ST"]["ST01"] == "997"
    segments = _segments(transaction)
    assert segments["AK1"][:2] == ["PO", "7"]
    assert segments["AK2"][:2] == ["850", "0001"]
    assert segments["AK5"][0] == "A"
    assert segments["AK9"][0] == "A"
    again = codec.decode(codec.encode(out.body))
    assert again["interchange"]["IEA"]["IEA02"] == "000000042"


async def test_a_fixed_control_number_and_a_999() -> None:
    codec = get_codec("x12")
    [out] = await _step({"kind": "999", "control_number": 1001}).process(
        Message(codec.decode(PO.encode()))
    )
    assert out.body["interchange"]["ISA"]["ISA13"] == "000001001"
    transaction = out.body["interchange"]["groups"][0]["transactions"][0]
    assert transaction["ST"]["ST01"] == "999"


async def test_bytes_and_other_bodies_are_message_errors() -> None:
    step = _step({})
    with pytest.raises(MessageError, match="decode: x12"):
        await step.process(Message(PO.encode()))
    with pytest.raises(MessageError, match="not a decoded X12"):
        await step.process(Message({"orderId": "A-1"}))


@pytest.mark.skipif(not (CORPUS / "850.edi").is_file(), reason="shared x12 corpus not present")
async def test_a_corpus_850_is_acknowledged() -> None:
    codec = get_codec("x12")
    received = codec.decode((CORPUS / "850.edi").read_bytes())
    [out] = await _step({}).process(Message(received))
    decoded = codec.decode(codec.encode(out.body))
    isa13 = received["interchange"]["ISA"]["ISA13"]
    assert decoded["interchange"]["ISA"]["ISA13"] == isa13
    ak1 = _segments(decoded["interchange"]["groups"][0]["transactions"][0])["AK1"]
    assert ak1[1] == received["interchange"]["groups"][0]["GS"]["GS06"]
