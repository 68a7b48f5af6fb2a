"""``validate``: check a message against a JSON Schema (draft 2020-12) or an XSD.

Every violation is reported, each with its place — the JSON pointer of the offending field,
or the XPath and line of the offending XML element — and the message fails with a
:class:`~splice.errors.ContractViolation` (an HTTP source answers 400 with the list; other
sources dead-letter it). A schema file ending in ``.xsd`` validates XML: the body is the XML
document itself (bytes, parsed with the hardened XML codec) or data decoded from XML, which
is encoded back first.

JSON Schema checks are compiled with jsonschema-rs when the schema and the body allow it (see
:func:`compile_check`); python-jsonschema stays the reference: it lists the violations, and it
alone decides whenever the compiled check cannot promise the same answer.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

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
    "compile_check",
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
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        """The same as ``process``: it never waits, so the pipeline calls it directly."""
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
        self._is_valid = compile_check(schema, self._validator)
        self._schema_name = name
        self._max_errors = max_errors

    async def process(self, message: Message) -> list[Message]:
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        """The same as ``process``: it never waits, so the pipeline calls it directly."""
        if message.is_encoded:
            raise MessageError("validate needs a decoded body: add a 'decode' step before it")
        if self._is_valid is not None and self._is_valid(message.body, message.plain):
            return [message]
        errors = sorted(self._validator.iter_errors(message.body), key=lambda e: list(e.path))
        if errors:
            raise ContractViolation(
                [(_pointer(error.path), error.message) for error in errors[: self._max_errors]],
                schema=self._schema_name,
            )
        return [message]


# The compiled check. jsonschema-rs agrees with python-jsonschema on JSON data for most
# keywords; where they differ, the schema or the body is left to python-jsonschema alone:
# - pattern and multipleOf run python-jsonschema's own functions inside jsonschema-rs (Python
#   ``re`` is not ECMA-262: ``$`` matches before a final newline; python-jsonschema says 0.07 is
#   not a multiple of 0.01);
# - the keywords below, and ``$schema`` other than 2020-12, keep the whole schema in Python;
# - a body with anything but dict, list, str, int, finite float, bool and None (a Decimal, a
#   tuple, a date, NaN...) is checked in Python, since the two see those types differently;
# - so is a body or schema with an integer beyond 2**53: jsonschema-rs compares it with a float
#   as a float, python-jsonschema exactly.
_DRAFT_2020_12 = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    }
)
_PYTHON_ONLY = frozenset(
    {
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "unevaluatedItems",
        "unevaluatedProperties",
        "patternProperties",
        "dependencies",
        "additionalItems",
        "divisibleBy",
        "disallow",
        "extends",
    }
)
"""Keywords the two validators treat differently: python-jsonschema ignores ``dependencies``
and ``additionalItems`` in draft 2020-12, jsonschema-rs applies them; patternProperties keys are
matched with different regex dialects; the dynamic and unevaluated keywords are not compared."""
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})
_PYTHON_KEYWORDS = ("pattern", "multipleOf")
_PLAIN_SCALARS = frozenset({str, bool, type(None)})
_EXACT_INT = 2**53
"""Every integer up to this size is also a float, so the two compare it alike."""
_MAX_DEPTH = 1024
"""The JSON codec's limit; far deeper data would overflow jsonschema-rs's stack."""


class Check(Protocol):
    """A compiled check: True when ``body`` is valid; ``plain``: known plain (not walked)."""

    def __call__(self, body: Any, plain: bool = False) -> bool: ...


def compile_check(schema: Any, validator: Any) -> Check | None:
    """A fast ``is_valid`` that never accepts what ``validator`` (python-jsonschema) refuses.

    None when jsonschema-rs is not installed, cannot compile the schema (a ``$ref`` to another
    file, say) or the schema uses a keyword whose meaning differs between the two.
    """
    if not _compilable(schema):
        return None
    try:
        import jsonschema_rs
    except ImportError:
        return None
    keywords = {name: _python_keyword(validator, name) for name in _PYTHON_KEYWORDS}
    try:
        compiled = jsonschema_rs.Draft202012Validator(
            schema, validate_formats=False, offline=True, keywords=keywords
        )
    except Exception:  # whatever jsonschema-rs refuses, python-jsonschema still checks
        return None

    def is_valid(body: Any, plain: bool = False) -> bool:
        """``plain``: the body is known plain (``Message.plain``), so it is not walked."""
        try:
            return (plain or _plain(body)) and compiled.is_valid(body)
        except Exception:  # a type or string jsonschema-rs cannot take: ask Python
            return False

    return is_valid


def _compilable(schema: Any) -> bool:
    """No keyword of ``_PYTHON_ONLY`` and no long integer anywhere (data included: cautious)."""
    stack: list[tuple[Any, bool]] = [(schema, False)]
    while stack:
        node, is_map = stack.pop()
        if type(node) is int and abs(node) > _EXACT_INT:
            return False
        if isinstance(node, list):
            stack.extend((item, False) for item in node)
        elif isinstance(node, dict):
            if not is_map and not _plain_keywords(node):
                return False
            stack.extend((value, not is_map and key in _SCHEMA_MAPS) for key, value in node.items())
    return True


def _plain_keywords(node: dict[str, Any]) -> bool:
    if "$schema" in node and node["$schema"] not in _DRAFT_2020_12:
        return False
    reference = node.get("$ref")
    if isinstance(reference, str) and "json-schema.org/" in reference:
        return False  # the meta-schemas use $dynamicRef
    return _PYTHON_ONLY.isdisjoint(node)


def _python_keyword(validator: Any, name: str) -> type:
    """A jsonschema-rs keyword that runs python-jsonschema's own function for ``name``."""
    check = validator.VALIDATORS[name]
    if name == "pattern":
        return _python_pattern(validator, check)

    class PythonKeyword:
        def __init__(self, parent: dict[str, Any], value: Any, path: list[str | int]) -> None:
            self._parent = parent
            self._value = value

        def validate(self, instance: Any) -> None:
            for error in check(validator, self._value, instance, self._parent):
                raise ValueError(error.message)

    return PythonKeyword


def _python_pattern(validator: Any, check: Any) -> type:
    """``pattern`` as python-jsonschema reads it (``re.search`` on strings), without its
    generator and type lookup per call: a compiled expression's search, or, for a pattern
    Python cannot compile, python-jsonschema's own function (which raises the same error)."""

    class PythonPattern:
        def __init__(self, parent: dict[str, Any], value: Any, path: list[str | int]) -> None:
            self._parent = parent
            self._value = value
            self._search: Callable[[str], object] | None = None
            if isinstance(value, str):
                with contextlib.suppress(re.error):
                    self._search = re.compile(value).search

        def validate(self, instance: Any) -> None:
            search = self._search
            if search is None:
                for error in check(validator, self._value, instance, self._parent):
                    raise ValueError(error.message)
            elif isinstance(instance, str) and search(instance) is None:
                raise ValueError(f"{instance!r} does not match {self._value!r}")

    return PythonPattern


def _plain(body: Any) -> bool:
    """Only values both see alike, at most ``_MAX_DEPTH`` deep (a cycle is refused too)."""
    scalars, isfinite, limit = _PLAIN_SCALARS, math.isfinite, _EXACT_INT
    level = [body]
    for _ in range(_MAX_DEPTH):
        inner: list[Any] = []
        for node in level:
            kind = type(node)
            if kind in scalars:
                continue
            if kind is dict:
                inner += node.values()
            elif kind is list:
                inner += node
            elif kind is int:
                if not -limit <= node <= limit:
                    return False
            elif kind is not float or not isfinite(node):
                return False
        if not inner:
            return True
        level = inner
    return False
