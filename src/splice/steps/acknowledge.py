"""``x12_ack``: answer a decoded X12 interchange with its 997 or 999 acknowledgement.

The body must be the decoded interchange (a ``decode: x12`` step before); it becomes the
acknowledgement's JSON, ready for ``encode: x12``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from splice.codecs.x12 import acknowledge
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.message import Message

__all__ = ["SPEC", "AcknowledgeConfig", "AcknowledgeStep"]


class AcknowledgeConfig(ComponentConfig):
    kind: Literal["997", "999"] = Field("997", description="The acknowledgement: 997 or 999.")
    control_number: int | None = Field(
        None,
        ge=1,
        le=999_999_999,
        description=(
            "ISA13 of the acknowledgement (GS06 counts on from it). Default: the received "
            "interchange's ISA13."
        ),
    )


SPEC = ComponentSpec(
    kind="step",
    name="x12_ack",
    summary="Replace a decoded X12 interchange with its 997 or 999 acknowledgement.",
    config=AcknowledgeConfig,
    example='x12_ack: {kind: "997"}',
    factory="splice.steps.acknowledge:AcknowledgeStep",
    shorthand="kind",
    description=(
        "Sender and receiver are swapped; each functional group gets one 997/999 with AK1, "
        "AK2 and AK5/IK5 per transaction set and AK9. Encode the result with `encode: x12`."
    ),
)


class AcknowledgeStep(Step):
    def __init__(self, config: AcknowledgeConfig, context: Context | None = None) -> None:
        self._kind: Literal["997", "999"] = config.kind
        self._control_number = config.control_number

    async def process(self, message: Message) -> list[Message]:
        body = message.body
        if message.is_encoded:
            raise MessageError("x12_ack needs a decoded body: add 'decode: x12' before it")
        interchange = _interchange(body)
        control = self._control_number or _received_control_number(interchange)
        try:
            ack = acknowledge(body, kind=self._kind, control_number=control)
        except (KeyError, TypeError, IndexError, ValueError) as error:
            raise MessageError(f"x12_ack: not a decoded X12 interchange ({error})") from error
        message.replace_body(ack, None)
        return [message]


def _interchange(body: Any) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        one = body.get("interchange")
        if isinstance(one, Mapping):
            return one
        many = body.get("interchanges")
        if isinstance(many, list) and many and isinstance(many[0], Mapping):
            return many[0]
    raise MessageError("x12_ack: the body is not a decoded X12 interchange (no 'interchange')")


def _received_control_number(interchange: Mapping[str, Any]) -> int:
    isa = interchange.get("ISA")
    number = isa.get("ISA13") if isinstance(isa, Mapping) else None
    if isinstance(number, str) and number.strip().isdigit() and 0 < int(number) < 10**9:
        return int(number)
    return 1
