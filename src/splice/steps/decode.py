"""``decode``: parse the raw body with a codec (``decode: json``, ``decode: {format: csv}``).

The format and its options are checked when the flow is loaded: an unknown format is
answered with a suggestion, a wrong option names the option. A body that is already
decoded passes through unchanged, so a flow may decode defensively.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, model_validator

from splice.codecs import Codec, option_errors
from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.message import Message

__all__ = ["SPEC", "DecodeConfig", "DecodeStep", "build_codec", "check_codec"]


def check_codec(format: str, options: dict[str, Any], info: ValidationInfo) -> BaseModel:
    """The validated options of a codec; ValueError (a config error) when wrong."""
    try:
        spec = registry.get("codec", format)
    except registry.UnknownComponent as error:
        raise ValueError(str(error)) from error
    try:
        return spec.config.model_validate(options, context=info.context)
    except ValidationError as error:
        raise ValueError("; ".join(option_errors(format, error))) from error


def build_codec(format: str, options: dict[str, Any], context: Context | None) -> Codec:
    """Build the codec of a validated step config."""
    spec = registry.get("codec", format)
    codec: Codec = spec.build(spec.config.model_validate(options), context)
    return codec


class DecodeConfig(ComponentConfig):
    format: str = Field(description="Codec name: json, jsonl, xml, csv, yaml, text, x12, ...")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options of that codec (see the codecs reference)."
    )

    @model_validator(mode="after")
    def _codec_exists(self, info: ValidationInfo) -> DecodeConfig:
        check_codec(self.format, self.options, info)
        return self


SPEC = ComponentSpec(
    kind="step",
    name="decode",
    summary="Parse the raw body with a codec (json, xml, csv, yaml, text, ...).",
    config=DecodeConfig,
    example="decode: json",
    factory="splice.steps.decode:DecodeStep",
    shorthand="format",
    description=(
        "The body becomes plain data and the content type the codec's. An already decoded "
        "body passes through. Bad input fails the message with the position, e.g. "
        "`not valid JSON: ... (at line 2, column 3)`."
    ),
)


class DecodeStep(Step):
    def __init__(self, config: DecodeConfig, context: Context | None = None) -> None:
        self.codec = build_codec(config.format, config.options, context)

    async def process(self, message: Message) -> list[Message]:
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        """The same as ``process``: the pipeline calls it directly, it never waits."""
        if message.is_encoded:
            body = message.body_bytes()
            decode_plain = getattr(self.codec, "decode_plain", None)
            if decode_plain is None:
                message.replace_body(self.codec.decode(body), self.codec.content_type)
            else:
                value, plain = decode_plain(body)
                message.replace_body(value, self.codec.content_type)
                message.plain = plain
        return [message]
