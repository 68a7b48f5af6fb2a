"""``validate``: check a message against a JSON Schema (draft 2020-12) or an XSD.

Every violation is reported, each with its place — the JSON pointer of the offending field,
or the XPath and line of the offending XML element — and the message fails with a
:class:`~splice.errors.ContractViolation` (an HTTP source answers 400 with the list; other
sources dead-letter it). A schema file ending in ``.xsd`` validates XML: the body is the XML
document itself (bytes, parsed with the hardened XML codec) or data decoded from XML, which
is encoded back first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, ValidationInfo, field_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import ConfigError, ContractViolation, MessageError
from splice.message import Message

_REFERENCE = re.compile(r"^[A-Za-z0-9_.-]+@(\d+|latest)$")

__all__ = [
    "SPEC",
    "JsonSchemaValidateStep",
    "RegistryValidateStep",
    "ValidateConfig",
    "XsdValidateStep",
    "build_validate_step",
    "is_reference",
    "schema_validator",
]


class ValidateConfig(ComponentConfig):
    schema_file: str = Field(
        alias="schema",
        description=(
            "A JSON Schema (`.json`) or XSD (`.xsd`) file relative to the project, or a "
            "registry reference `subject@version` / `subject@latest`."
        ),
    )
    max_errors: int = Field(20, ge=1, description="At most this many violations are reported.")

    @field_validator("schema_file")
    @classmethod
    def _schema_exists(cls, value: str, info: ValidationInfo) -> str:
        project_dir = (info.context or {}).get("project_dir")
        if project_dir is not None and not is_reference(value):
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
    """A validator for a schema file (by its extension) or a registry reference."""
    if is_reference(config.schema_file):
        return RegistryValidateStep(config, context)
    path = context.resolve_path(config.schema_file)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError.at(str(path), 1, 1, f"cannot read the schema: {error}") from error
    kind = "xsd" if config.schema_file.lower().endswith(".xsd") else "json"
    return schema_validator(kind, text, config.schema_file, config.max_errors, str(path))


def is_reference(value: str) -> bool:
    """``order@2`` or ``crm.order@latest``: a subject in the schema registry."""
    return _REFERENCE.match(value) is not None


def schema_validator(kind: str, text: bytes, name: str, max_errors: int, where: str) -> Step:
    if kind == "xsd":
        return XsdValidateStep(text, name, max_errors, where)
    if kind == "json":
        return JsonSchemaValidateStep(text, name, max_errors, where)
    raise ConfigError.at(where, 1, 1, f"validate supports JSON Schema and XSD, not {kind}")


class RegistryValidateStep(Step):
    """Validates against ``subject@version`` from the schema registry, resolved at open."""

    def __init__(self, config: ValidateConfig, context: Context) -> None:
        self._config = config
        self._context = context
        self._inner: Step | None = None

    async def open(self) -> None:
        from splice.schemas import SchemaRegistry

        store = self._context.store
        reference = self._config.schema_file
        if store is None:
            raise ConfigError.at(reference, 1, 1, "a registry schema needs the state store")
        stored = await SchemaRegistry(store.schemas).resolve(reference)
        name = f"{stored.subject}@{stored.version}"
        kind = (
            stored.schema_type.lower().replace("json_schema", "json").replace("jsonschema", "json")
        )
        self._inner = schema_validator(
            kind, stored.text.encode(), name, self._config.max_errors, reference
        )

    async def process(self, message: Message) -> list[Message]:
        if self._inner is None:
            await self.open()
        assert self._inner is not None
        return await self._inner.process(message)


class XsdValidateStep(Step):
    def __init__(self, text: bytes, name: str, max_errors: int, where: str) -> None:
        from lxml import etree  # type: ignore[import-untyped]

        from splice.codecs.xml import XmlCodec, safe_parser

        try:
            self._schema = etree.XMLSchema(etree.fromstring(text, safe_parser()))
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as error:
            raise ConfigError.at(where, 1, 1, f"not a valid XSD: {error}") from error
        self._codec = XmlCodec()
        self._schema_name = name
        self._max_errors = max_errors

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
    def __init__(self, text: bytes, name: str, max_errors: int, where: str) -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            schema = orjson.loads(text)
            Draft202012Validator.check_schema(schema)
        except (orjson.JSONDecodeError, SchemaError) as error:
            reason = getattr(error, "message", None) or str(error)
            raise ConfigError.at(where, 1, 1, f"not a valid JSON Schema: {reason}") from error
        self._validator = Draft202012Validator(schema)
        self._schema_name = name
        self._max_errors = max_errors

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
