"""The amqp sink's own frame encoding writes exactly what pamqp (aiormq's encoder) writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("aiormq")

from pamqp import commands, frame
from pamqp.header import ContentHeader

from splice.connectors.amqp._publish import (
    _body_frames,
    content_header_frame,
)

short_text = st.text(max_size=40) | st.just("") | st.none()
header_names = st.text(min_size=1, max_size=20)


@given(
    channel=st.integers(1, 65535),
    body_size=st.integers(0, 2**40),
    content_type=short_text,
    headers=st.none() | st.dictionaries(header_names, st.text(max_size=60), max_size=6),
    delivery_mode=st.sampled_from([None, 1, 2]),
    correlation_id=short_text,
    message_id=short_text,
    message_type=short_text,
    app_id=short_text,
)
def test_the_content_header_is_the_one_pamqp_writes(
    channel: int, body_size: int, **properties: Any
) -> None:
    ours = content_header_frame(channel, body_size, **properties)
    theirs = frame.marshal(
        ContentHeader(0, body_size, commands.Basic.Properties(**properties)), channel
    )
    assert ours == theirs


def test_what_the_encoder_does_not_cover_is_left_to_pamqp() -> None:
    assert content_header_frame(1, 10, message_id="x" * 256) is None  # longer than a shortstr
    assert content_header_frame(1, 10, headers={"n": 5}) is None  # not text
    assert content_header_frame(1, 10, headers={"k" * 129: "v"}) is None  # pamqp truncates
    assert content_header_frame(1, 10, delivery_mode=3) is None


@given(body=st.binary(max_size=300), max_size=st.integers(1, 128))
def test_the_body_is_split_as_aiormq_splits_it(body: bytes, max_size: int) -> None:
    from pamqp.body import ContentBody

    chunks = [body[i : i + max_size] for i in range(0, len(body), max_size)]
    expected = [frame.marshal(ContentBody(chunk), 7) for chunk in chunks]
    assert _body_frames(7, body, max_size) == expected
