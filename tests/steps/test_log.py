"""The log step: one line per message, chosen fields, masked fields and secrets, no body."""

from __future__ import annotations

from pathlib import Path

import pytest

from splice import secrets
from splice.components.context import Context
from splice.message import Message
from splice.steps.log import SPEC, LogStep

BODY = {"orderId": "A1", "customer": {"name": "Ann", "iban": "DE89370400440532013000"}}


def _step(raw: object, tmp_path: Path) -> LogStep:
    step = SPEC.build(SPEC.parse(raw), Context(tmp_path, "orders", component="steps[1].log"))
    assert isinstance(step, LogStep)
    return step


async def test_fields_are_logged_but_not_the_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = _step({"message": "got", "fields": {"order": "orderId"}}, tmp_path)
    caplog.set_level("INFO", "splice.flow")
    message = Message(BODY)
    assert await step.process(message) == [message]
    [record] = caplog.records
    assert "got" in record.getMessage()
    assert "order=A1" in record.getMessage()
    assert message.id in record.getMessage()
    assert "Ann" not in caplog.text


async def test_masked_fields_cannot_be_revealed_by_an_expression(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = {"fields": {"iban": "customer.iban"}, "mask": ["customer.iban"], "body": True}
    caplog.set_level("INFO", "splice.flow")
    await _step(raw, tmp_path).process(Message(BODY))
    assert "DE89" not in caplog.text
    assert "iban=***" in caplog.text
    assert '"name":"Ann"' in caplog.text
    assert BODY["customer"]["iban"] == "DE89370400440532013000"  # type: ignore[index]


async def test_registered_secrets_are_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets.register("s3cr3t-token-value")
    caplog.set_level("INFO", "splice.flow")
    await _step({"fields": {"t": "token"}}, tmp_path).process(
        Message({"token": "s3cr3t-token-value"})
    )
    assert "s3cr3t" not in caplog.text
    assert "t=***" in caplog.text


async def test_a_failing_field_does_not_fail_the_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", "splice.flow")
    step = _step({"level": "warning", "fields": {"x": '"a" + 1'}}, tmp_path)
    assert len(await step.process(Message({}))) == 1
    assert "x=<error T2001>" in caplog.text
