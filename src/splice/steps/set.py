"""``set``: set message headers from JSONata expressions evaluated on the body."""

from __future__ import annotations

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MappingError, MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message

__all__ = ["SPEC", "SetConfig", "SetStep"]


class SetConfig(ComponentConfig):
    headers: dict[str, str] = Field(
        description="Header name -> JSONata expression evaluated on the decoded body.",
    )
    required: bool = Field(
        True, description="An expression that yields no value is an error (else skipped)."
    )


SPEC = ComponentSpec(
    kind="step",
    name="set",
    summary="Set message headers from JSONata expressions on the body.",
    config=SetConfig,
    example='set: {headers: {order-id: orderId, customer: "customer.name"}}',
    factory="splice.steps.set:SetStep",
    shorthand="headers",
    description=(
        "Values are converted to text: strings as they are, numbers and booleans in their "
        "JSON form. Later steps and sinks read them (e.g. a file sink's `{headers[order-id]}`)."
    ),
)


class SetStep(Step):
    def __init__(self, config: SetConfig, context: Context) -> None:
        self._expressions = [(name, compile_mapping(expr)) for name, expr in config.headers.items()]
        self._required = config.required

    async def process(self, message: Message) -> list[Message]:
        if message.is_encoded:
            raise MessageError("set needs a decoded body: add a 'decode' step before it")
        for name, mapping in self._expressions:
            value = mapping.evaluate(message.body, headers=message.headers, plain=message.plain)
            if value is UNDEFINED or value is None:
                if self._required:
                    raise MappingError(f"header '{name}' has no value", code="set-undefined")
                continue
            message.headers[name] = _as_text(value)
        return [message]


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
