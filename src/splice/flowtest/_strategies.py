"""Hypothesis strategies for a flow's input: from its JSON Schema, or any JSON-like data.

``hypothesis-jsonschema`` does not work with the Hypothesis we use (it reaches into its
internals), so the common keywords are mapped here: ``type``, ``properties``, ``required``,
``items``, ``minItems``/``maxItems``, ``minimum``/``maximum``, ``minLength``/``maxLength``,
``pattern``, ``enum`` and ``const``. Anything else generates any JSON value.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["any_json", "from_schema", "sample"]

Strategy = st.SearchStrategy[Any]

_SCALARS: Strategy = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)


def any_json() -> Strategy:
    """Any JSON value, a few levels deep."""
    return st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def from_schema(schema: Any) -> Strategy:
    """Values mostly valid for ``schema``, by its common keywords."""
    if not isinstance(schema, dict):
        return any_json()
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}) for one in kind])
    build = _BY_TYPE.get(kind) if isinstance(kind, str) else None
    return build(schema) if build is not None else any_json()


def _object(schema: dict[str, Any]) -> Strategy:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    fixed = {name: from_schema(sub) for name, sub in properties.items() if name in required}
    optional = {name: from_schema(sub) for name, sub in properties.items() if name not in required}
    return st.fixed_dictionaries(fixed, optional=optional)


def _array(schema: dict[str, Any]) -> Strategy:
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", low + 3))
    return st.lists(from_schema(schema.get("items", {})), min_size=low, max_size=high)


def _string(schema: dict[str, Any]) -> Strategy:
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low = int(schema.get("minLength", 0))
    return st.text(min_size=low, max_size=int(schema.get("maxLength", low + 20)))


def _integer(schema: dict[str, Any]) -> Strategy:
    return st.integers(schema.get("minimum"), schema.get("maximum"))


def _number(schema: dict[str, Any]) -> Strategy:
    low, high = schema.get("minimum"), schema.get("maximum")
    return st.floats(low, high, allow_nan=False, allow_infinity=False) | _integer(schema)


_BY_TYPE: dict[str, Any] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema: st.booleans(),
    "null": lambda schema: st.none(),
}

_GENERIC = {"record": {"id": "A-1", "name": "x", "amount": 1, "items": [{"qty": 1}]}}


def sample(schema: Any) -> Any:
    """One small value valid for ``schema`` (a generic record when there is none)."""
    if not isinstance(schema, dict) or not schema:
        return _GENERIC
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind == "object":
        return {name: sample(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}))] * max(int(schema.get("minItems", 1)), 1)
    if kind == "string":
        return "A1" + "a" * max(int(schema.get("minLength", 0)) - 2, 0)
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    return {"boolean": True, "null": None}.get(str(kind), "x")
