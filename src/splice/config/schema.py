"""The JSON Schema of a flow file, from the component config models (editor completion).

Point an editor at it, e.g. with a first line ``# yaml-language-server:
$schema=../docs/reference/flow.schema.json`` in a flow file.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from splice.components.spec import ComponentSpec, Kind
from splice.config._models import ON_ERROR_KEYS, FlowHeader

__all__ = ["flow_schema"]

_REF = "#/$defs/{model}"


def flow_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for ``flows/*.yaml``."""
    from splice.docsgen import specs_by_kind

    specs = {kind: specs_by_kind(kind) for kind in ("source", "step", "sink")}
    models: list[type[BaseModel]] = [FlowHeader]
    models += [spec.config for group in specs.values() for spec in group]
    refs, schema = models_json_schema(
        [(model, "validation") for model in dict.fromkeys(models)], ref_template=_REF
    )
    defs: dict[str, Any] = schema.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return dict(refs[(model, "validation")])

    def choices(kind: Kind) -> dict[str, Any]:
        return {"oneOf": [_entry(spec, ref(spec.config), defs) for spec in specs[kind]]}

    properties = dict(defs[ref(FlowHeader)["$ref"].rsplit("/", 1)[-1]]["properties"])
    properties |= {
        "source": choices("source"),
        "steps": {"type": "array", "items": choices("step")},
        "sinks": {"type": "object", "additionalProperties": _sink(choices("sink"))},
        "on_error": _on_error(),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "splice flow",
        "type": "object",
        "additionalProperties": False,
        "required": ["source"],
        "properties": properties,
        "$defs": defs,
    }


def _entry(spec: ComponentSpec, config: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``{name: config}``, or ``{name: value-of-the-shorthand-field}``."""
    value: dict[str, Any] = config
    if spec.shorthand is not None:
        target = defs.get(config["$ref"].rsplit("/", 1)[-1], {})
        short = target.get("properties", {}).get(spec.shorthand)
        options = [config, {"type": "null"}] + ([short] if short else [])
        value = {"anyOf": options}
    return {
        "type": "object",
        "description": spec.summary,
        "properties": {spec.name: value},
        "required": [spec.name],
        "additionalProperties": False,
    }


def _sink(choices: dict[str, Any]) -> dict[str, Any]:
    """A sink entry: one component key, plus its own ``on_error``."""
    options = []
    for option in choices["oneOf"]:
        widened = dict(option)
        widened["properties"] = {**option["properties"], "on_error": _on_error()}
        options.append(widened)
    return {"oneOf": options}


def _on_error() -> dict[str, Any]:
    properties: dict[str, Any] = {key: {} for key in ON_ERROR_KEYS}
    properties["dead_letter"] = {"type": "boolean", "default": True}
    return {"type": "object", "additionalProperties": False, "properties": properties}
