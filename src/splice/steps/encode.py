"""``encode``: write the decoded body with a codec (``encode: xml``, ``encode: {format: csv}``).

The format and its options are checked when the flow is loaded, as for ``decode``. A body
that is already bytes passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, model_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.message import Message
from splice.steps.decode import build_codec, check_codec

__all__ = ["SPEC", "EncodeConfig", "EncodeStep"]


class EncodeConfig(ComponentConfig):
    format: str = Field(description="Codec name: json, jsonl, xml, csv, yaml, text, x12, ...")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options of that codec (see the codecs reference)."
    )

    @model_validator(mode="after")
    def _codec_exists(self, info: ValidationInfo) -> EncodeConfig:
        check_codec(self.format, self.options, info)
        return self


SPEC = ComponentSpec(
    kind="step",
    name="encode",
    summary="Write the decoded body as bytes with a codec (json, xml, csv, yaml, text, ...).",
    config=EncodeConfig,
    example="encode: {format: xml, options: {root: order}}",
    factory="splice.steps.encode:EncodeStep",
    shorthand="format",
    description=(
        "The body becomes bytes and the content type the codec's. A body that is already "
        "bytes passes through. A value the format cannot hold fails the message, naming "
        "its key path."
    ),
)


class EncodeStep(Step):
    def __init__(self, config: EncodeConfig, context: Context | None = None) -> None:
        self.codec = build_codec(config.format, config.options, context)

    async def process(self, message: Message) -> list[Message]:
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        """The same as ``process``: the pipeline calls it directly, it never waits."""
        if not message.is_encoded:
            message.replace_body(self.codec.encode(message.body), self.codec.content_type)
        return [message]
