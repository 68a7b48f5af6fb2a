"""The ``text`` codec: bytes to a string in a given encoding, and back."""

from __future__ import annotations

import codecs
from typing import Any

from pydantic import Field, field_validator

from splice.codecs.base import Codec
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "TextCodec", "TextOptions"]


class TextOptions(ComponentConfig):
    encoding: str = Field("utf-8", description="Character encoding (utf-8, latin-1, cp1252, ...).")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as error:
            raise ValueError(f"unknown encoding '{value}'") from error
        return value


SPEC = ComponentSpec(
    kind="codec",
    name="text",
    summary="Plain text: the body as one string.",
    config=TextOptions,
    example="decode: {format: text, options: {encoding: latin-1}}",
    factory="splice.codecs.text:TextCodec",
)


class TextCodec(Codec):
    name = "text"
    content_type = "text/plain"

    def __init__(self, options: TextOptions | None = None, context: Any = None) -> None:
        self.options = options or TextOptions()

    def decode(self, data: bytes) -> Any:
        try:
            return bytes(data).decode(self.options.encoding)
        except UnicodeDecodeError as error:
            raise CodecError(
                f"not {self.options.encoding} text: {error.reason}", position=f"byte {error.start}"
            ) from error

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise CodecError(
                f"cannot write text: the body is a {type(value).__name__}, not a string"
            )
        try:
            return value.encode(self.options.encoding)
        except UnicodeEncodeError as error:
            raise CodecError(
                f"cannot write {self.options.encoding} text: {error.reason}",
                position=f"character {error.start}",
            ) from error
