"""``multicast``: the recipient list. Send each message to several sinks, static or computed.

``to: [a, b]`` names the sinks (checked when the flow is loaded); ``expression:`` computes
them per message with JSONata (a name or a list of names, each of which must be a sink of
the flow, else the message fails with ``unknown-recipient``). The step sets
:attr:`Message.targets`; the pipeline delivers to every target and the source delivery is
acked only once all of them confirmed.
"""

from __future__ import annotations

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message
from splice.steps.filter import decoded
from splice.steps.route import SinkNames, known_sinks

__all__ = ["SPEC", "MulticastConfig", "MulticastStep"]


class MulticastConfig(ComponentConfig):
    to: SinkNames | None = Field(None, description="The sinks every message goes to.")
    expression: str | None = Field(
        None, description="JSONata giving a sink name or a list of sink names per message."
    )

    @field_validator("to")
    @classmethod
    def _sinks_exist(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("name at least one sink")
        return None if value is None else known_sinks(value, info)

    _sink_names: tuple[str, ...] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _exactly_one(self, info: ValidationInfo) -> MulticastConfig:
        if (self.to is None) == (self.expression is None):
            raise ValueError("give exactly one of 'to' and 'expression'")
        sinks = (info.context or {}).get("sink_names")
        self._sink_names = tuple(sinks) if sinks is not None else None
        return self

    @property
    def sink_names(self) -> tuple[str, ...] | None:
        """The flow's sinks, when the config was loaded with a flow (checked per message)."""
        return self._sink_names


SPEC = ComponentSpec(
    kind="step",
    name="multicast",
    summary="Recipient list: send each message to several sinks, named or computed.",
    config=MulticastConfig,
    example="multicast: {to: [erp, archive]}",
    factory="splice.steps.multicast:MulticastStep",
    shorthand="to",
    description=(
        "A computed list (`expression: recipients`) is checked against the flow's sinks per "
        "message: an unknown name fails the message with `unknown-recipient`, an empty list "
        "with `no-recipient`."
    ),
)


class MulticastStep(Step):
    def __init__(self, config: MulticastConfig, context: Context) -> None:
        self._static = tuple(config.to) if config.to is not None else None
        self._expression = compile_mapping(config.expression) if config.expression else None
        self._sinks = config.sink_names

    async def process(self, message: Message) -> list[Message]:
        targets = self._static if self._static is not None else self._compute(message)
        message.targets = targets
        message.headers["splice.route"] = ",".join(targets)
        return [message]

    def _compute(self, message: Message) -> tuple[str, ...]:
        assert self._expression is not None
        value = self._expression.evaluate(
            decoded(message, "multicast"), headers=message.headers, plain=message.plain
        )
        names = [] if value is UNDEFINED or value is None else _as_names(value)
        if not names:
            raise MessageError("the recipient list is empty", code="no-recipient")
        unknown = [name for name in names if self._sinks is not None and name not in self._sinks]
        if unknown:
            valid = ", ".join(self._sinks or ())
            raise MessageError(
                f"unknown recipient '{unknown[0]}' (sinks of this flow: {valid})",
                code="unknown-recipient",
            )
        return tuple(dict.fromkeys(names))


def _as_names(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise MessageError(f"recipients must be sink names, got {value!r}", code="bad-recipient")
    return [str(item) for item in items]
