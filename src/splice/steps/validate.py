"""``validate``: check a message against a JSON Schema (draft 2020-12) or an XSD.

Every violation is reported, each with its place — the JSON pointer of the offending field,
or the XPath and line of the offending XML element — and the message fails with a
:class:`~splice.errors.ContractViolation` (an HTTP source answers 400 with the list; other
sources dead-letter it). A schema file ending in ``.xsd`` validates XML: the body is the XML
document itself (bytes, parsed with the hardened XML codec) or data decoded from XML, which
is encoded back first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, ValidationInfo, field_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import ConfigError, ContractViolation, MessageError
from splice.message import Message

__all__ = [
    "SPEC",
    "JsonSchemaValidateStep",
    "ValidateConfig",
    "XsdValidateStep",
    "build_validate_step",
]


class ValidateConfig(ComponentConfig):
    schema_file: str = Field(
        alias="schema",
        description="A JSON Schema (`.json`) or XSD (`.xsd`) file, relative to the project.",
    )
    max_errors: int = Field(20, ge=1, description="At most this many violations are reported.")

    @field_validator("schema_file")
    @classmethod
    def _schema_exists(cls, value: str, info: ValidationInfo) -> str:
        project_dir = (info.context or {}).get("project_dir")
        if project_dir is not None:
            path = Path(project_dir) / value
            if not path.is_file():
                raise ValueError(f"schema file not found: {value}")
        return value


SPEC = ComponentSpec(
    kind="step",
    name="validate",
    summary="Check the message against a JSON Schema or an XSD; every violation is reported.",
    config=ValidateConfig,
    example="validate: {schema: schemas/order.schema.json}",
    factory="splice.steps.validate:build_validate_step",
    shorthand="schema",
    description=(
        "JSON Schema: the body must be decoded data (add `decode: json` first); violations "
        "are listed with their JSON pointer, e.g. `/items/0/qty: -1 is less than the minimum "
        "of 1`. XSD: the body is XML (bytes, or data decoded from XML); violations are listed "
        "with their XPath and line, e.g. `/order/qty (line 3): 'two' is not a valid value`."
    ),
)


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def build_validate_step(config: ValidateConfig, context: Context) -> Step:
    """The JSON Schema or the XSD validator, by the schema file's extension."""
    if config.schema_file.lower().endswith(".xsd"):
        return XsdValidateStep(config, context)
    return JsonSchemaValidateStep(config, context)


class XsdValidateStep(Step):
    def __init__(self, config: ValidateConfig, context: Context) -> None:
        from lxml import etree  # type: ignore[import-untyped]

        from splice.codecs.xml import XmlCodec, safe_parser

        path = context.resolve_path(config.schema_file)
        try:
            document = etree.parse(str(path), safe_parser())
            self._schema = etree.XMLSchema(document)
        except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
            raise ConfigError.at(str(path), 1, 1, f"not a valid XSD: {error}") from error
        self._codec = XmlCodec()
        self._schema_name = config.schema_file
        self._max_errors = config.max_errors

    async def process(self, message: Message) -> list[Message]:
        data = message.body_bytes() if message.is_encoded else self._codec.encode(message.body)
        root = self._codec.parse(data)
        if self._schema.validate(root):
            return [message]
        errors = [
            (f"{entry.path} (line {entry.line})", entry.message)
            for entry in list(self._schema.error_log)[: self._max_errors]
        ]
        raise ContractViolation(errors, schema=self._schema_name)


class JsonSchemaValidateStep(Step):
    def __init__(self, config: ValidateConfig, context: Context) -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        path = context.resolve_path(config.schema_file)
        try:
            schema = orjson.loads(path.read_bytes())
            Draft202012Validator.check_schema(schema)
        except (OSError, orjson.JSONDecodeError, SchemaError) as error:
            reason = getattr(error, "message", None) or str(error)
            raise ConfigError.at(str(path), 1, 1, f"not a valid JSON Schema: {reason}") from error
        self._validator = Draft202012Validator(schema)
        self._schema_name = config.schema_file
        self._max_errors = config.max_errors

    async def process(self, message: Message) -> list[Message]:
        if message.is_encoded:
            raise MessageError("validate needs a decoded body: add a 'decode' step before it")
        errors = sorted(self._validator.iter_errors(message.body), key=lambda e: list(e.path))
        if errors:
            raise ContractViolation(
                [(_pointer(error.path), error.message) for error in errors[: self._max_errors]],
                schema=self._schema_name,
            )
        return [message]
