"""Messages become columns and come back unchanged."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

import splice.store
from splice.message import Message
from splice.store import StoreError
from splice.store.codec import decode_message, encode_message


def round_trip(message: Message) -> Message:
    return decode_message(encode_message(message))


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"\x00\xffraw bytes", "bytes"),
        (bytearray(b"abc"), "bytes"),
        ("text body é", "text"),
        ({"orderId": 1, "lines": [{"qty": 2.5}], "ok": True, "none": None}, "data"),
        ([1, "two", None], "data"),
        (None, "data"),
        (42, "data"),
    ],
)
def test_every_kind_of_body_round_trips(body: Any, kind: str) -> None:
    message = Message(body, headers={"h": "v"}, content_type="x/y", attempts=2, targets=("a",))
    message.record("orders", "source", "received")
    assert encode_message(message)["body_kind"] == kind
    back = round_trip(message)
    expected = bytes(body) if isinstance(body, bytearray) else body
    assert (back.body, back.headers, back.content_type) == (expected, {"h": "v"}, "x/y")
    assert (back.id, back.correlation_id, back.attempts) == (message.id, message.id, 2)
    assert (back.lineage, back.targets) == (message.lineage, ("a",))


@pytest.mark.parametrize(
    "body", [{"price": Decimal("9.99")}, {"at": datetime(2025, 1, 1)}, {1: "x"}, {"s": {1}}]
)
def test_decoded_body_that_is_not_json_is_refused(body: Any) -> None:
    with pytest.raises(StoreError, match="not JSON"):
        encode_message(Message(body))


def test_public_names() -> None:
    assert splice.store.__all__ == [
        "AggregationState",
        "DeadLetter",
        "DeadLetterQueue",
        "DeadLetterStatus",
        "IdempotencyKeys",
        "Journal",
        "NotFound",
        "OpenGroup",
        "Store",
        "StoreError",
    ]
    for name in splice.store.__all__:
        assert getattr(splice.store, name) is not None
