"""The JSON decoder says when the data it read is plain, and then it always is.

``loads_plain`` tells validate and map that they may skip walking the body for types they
cannot take (``Message.plain``): whatever it calls plain must pass validate's own walk.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from splice.codecs.json import loads, loads_plain
from splice.flowtest._strategies import any_json
from splice.message import Message
from splice.steps.decode import DecodeConfig, DecodeStep
from splice.steps.validate import _plain

ORDER = Path(__file__).resolve().parents[2] / "bench/fixtures/order.json"

numbers = st.integers(-(2**64), 2**64) | st.floats(allow_nan=False, allow_infinity=False)
documents = st.recursive(
    numbers | st.text(max_size=5) | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


@given(documents | any_json())
def test_what_the_decoder_calls_plain_passes_validates_own_walk(value: object) -> None:
    text = json.dumps(value).encode()
    decoded, plain = loads_plain(text)
    assert decoded == loads(text)
    if plain:
        assert _plain(decoded)


def test_an_ordinary_order_is_plain() -> None:
    assert loads_plain(ORDER.read_bytes())[1]


def test_long_numbers_big_exponents_and_deep_nesting_are_not_called_plain() -> None:
    assert not loads_plain(b'{"id": 9007199254740993}')[1]  # beyond 2**53
    assert not loads_plain(b'{"id": 1234567890123456}')[1]  # 16 digits: not looked at
    assert not loads_plain(b'{"x": 1.5e300}')[1]
    assert not loads_plain(b"[" * 1024 + b"]" * 1024)[1]  # validate walks 1023 levels
    assert loads_plain(b"[" * 1023 + b"]" * 1023)[1]
    assert loads_plain(b'{"id": 123456789012345, "p": -0.5e-10}')[1]


def test_decode_marks_the_message_and_a_new_body_clears_the_mark() -> None:
    step = DecodeStep(DecodeConfig(format="json"))
    (message,) = step.process_sync(Message(b'{"a": [1, 2.5, null, "x"]}'))
    assert message.plain
    message.replace_body({"a": 1}, None)
    assert not message.plain
    (long,) = step.process_sync(Message(b'{"a": 12345678901234567890}'))
    assert not long.plain
