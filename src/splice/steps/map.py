"""``map``: replace the message body with the result of a JSONata mapping.

The mapping sees the decoded body as its input, ``$headers`` (the message headers) and
``$lookup(table, key)`` over the project's lookup tables. It is compiled when the flow is
built, so a syntax error stops the flow from starting, not the first message.
"""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import Field, model_validator

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import ConfigError, MappingError, MessageError
from splice.mapping import DEFAULT_TIMEOUT, UNDEFINED, LookupTables, compile_mapping
from splice.message import Message

__all__ = ["SPEC", "MapConfig", "MapStep"]


class MapConfig(ComponentConfig):
    expression: str | None = Field(None, description="The JSONata expression.")
    file: str | None = Field(
        None, description="A .jsonata file holding the expression, relative to the project."
    )
    on_undefined: Literal["error", "drop"] = Field(
        "error",
        description="When the mapping yields no value: fail the message, or drop it.",
    )
    timeout: float = Field(
        DEFAULT_TIMEOUT, gt=0, description="Seconds one evaluation may run (then D1012)."
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> MapConfig:
        if (self.expression is None) == (self.file is None):
            raise ValueError("give exactly one of 'expression' and 'file'")
        return self


SPEC = ComponentSpec(
    kind="step",
    name="map",
    summary="Reshape the body with a JSONata mapping (money arithmetic is exact).",
    config=MapConfig,
    example='map: |\n  {"total": $sum(items.(qty * price))}',
    factory="splice.steps.map:MapStep",
    shorthand="expression",
    description=(
        "The body must be decoded data (add `decode: json` first). The mapping sees "
        "`$headers` and `$lookup(table, key)`; see docs/guides/mapping.md."
    ),
)


class MapStep(Step):
    def __init__(self, config: MapConfig, context: Context) -> None:
        settings = context.settings
        tables = context.shared.get(
            "mapping.lookups", lambda: LookupTables.load(context.project_dir, settings.lookups)
        )
        self._mapping = compile_mapping(
            _expression(config, context), lookups=tables, timeout=config.timeout
        )
        self._drop_undefined = config.on_undefined == "drop"

    async def process(self, message: Message) -> list[Message]:
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        """The same as ``process``; it never waits, so the pipeline calls it directly (a
        runaway expression is stopped by the mapping's own time and depth limits)."""
        data = _decoded(message)
        plain = message.plain and data is message.body
        result = self._mapping.evaluate(data, headers=message.headers, plain=plain)
        if result is UNDEFINED:
            if self._drop_undefined:
                return []
            raise MappingError(
                "mapping produced no value (set on_undefined: drop to drop such messages)",
                code="map-undefined",
                expression=self._mapping.expression,
            )
        return [message.replace_body(result, None)]


def _expression(config: MapConfig, context: Context) -> str:
    if config.expression is not None:
        return config.expression
    path = context.resolve_path(str(config.file))
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.at(str(path), 1, 1, f"cannot read mapping file: {exc}") from exc


def _decoded(message: Message) -> object:
    if not message.is_encoded:
        return message.body
    if message.content_type and "json" not in message.content_type:
        raise MessageError(
            f"map needs JSON or decoded data, got {message.content_type}; "
            "add a 'decode' step before it",
            code="map-not-json",
        )
    try:
        return orjson.loads(message.body_bytes())
    except orjson.JSONDecodeError as exc:
        raise MessageError(
            f"map needs JSON or decoded data ({exc}); add a 'decode' step before it",
            code="map-not-json",
        ) from exc
