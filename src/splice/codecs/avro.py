"""The ``avro`` codec: Avro object container files or single schemaless datums (fastavro).

``schema`` is an ``.avsc`` file (relative to the project), an inline schema, or a reference
``subject@version`` to the schema registry in the project's state store (read once, when
the codec is built). With ``container: true`` (the default) data is an object container
file: decoding yields its records (streamed one by one by ``iter_decode``), using the file's
own writer schema resolved against ``schema`` when one is given; encoding writes a list of
records. With ``container: false`` data is one binary datum written with ``schema``.

Values are validated before writing; a mismatch is a CodecError naming the field by its
Avro path (``Order.lines.Line.qty``). Logical types decode to Python values (``Decimal``,
``datetime``, ``UUID``), as fastavro reads them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson
from pydantic import Field, model_validator

from splice.codecs import CodecOptionError
from splice.codecs.base import DEFAULT_MAX_BYTES, Codec, check_size
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError, SpliceError

__all__ = ["SPEC", "AvroCodec", "AvroOptions"]


class AvroOptions(ComponentConfig):
    schema_: str | dict[str, Any] | None = Field(
        None,
        alias="schema",
        description="An `.avsc` path, an inline schema, or `subject@version` from the "
        "schema registry. Required unless decoding container files.",
    )
    container: bool = Field(
        True, description="`true`: object container files; `false`: one schemaless datum."
    )
    compression: Literal["null", "deflate"] = Field(
        "null", description="Encode: block compression of container files."
    )
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES, ge=1, description="Refuse documents larger than this many bytes."
    )

    @model_validator(mode="after")
    def _schema_needed(self) -> AvroOptions:
        if not self.container and self.schema_ is None:
            raise ValueError("a schemaless datum (container: false) needs a schema")
        return self


SPEC = ComponentSpec(
    kind="codec",
    name="avro",
    summary="Avro container files (streamed record by record) or schemaless datums.",
    config=AvroOptions,
    example="decode: {format: avro, options: {schema: schemas/order.avsc, container: false}}",
    factory="splice.codecs.avro:AvroCodec",
    description="See docs/guides/avro.md.",
)


class AvroCodec(Codec):
    name = "avro"
    content_type = "application/avro"
    supports_records = True

    def __init__(self, options: AvroOptions | None = None, context: Any = None) -> None:
        import fastavro

        self.options = options or AvroOptions()
        raw = self.options.schema_
        self._schema: Any = None
        if raw is not None:
            try:
                self._schema = fastavro.parse_schema(_load_schema(raw, context))
            except SpliceError:
                raise
            except Exception as exc:
                raise CodecOptionError(f"avro option 'schema': not a valid schema: {exc}") from exc

    # -- decode --------------------------------------------------------------------------

    def decode(self, data: bytes) -> Any:
        check_size(data, self.options.max_bytes, "Avro")
        if self.options.container:
            return list(self.iter_decode(io.BytesIO(data)))
        return self._datum(data)

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        if not self.options.container:
            yield self.decode(stream.read())
            return
        import fastavro

        try:
            yield from fastavro.reader(stream, reader_schema=self._schema)
        except SpliceError:
            raise
        except Exception as exc:
            raise CodecError(
                f"not a readable Avro container: {_reason(exc)}", position=_at(stream)
            ) from exc

    def _datum(self, data: bytes) -> Any:
        import fastavro

        stream = io.BytesIO(data)
        try:
            value = fastavro.schemaless_reader(stream, self._schema, None)
        except Exception as exc:
            raise CodecError(
                f"not an Avro datum of this schema: {_reason(exc)}", position=_at(stream)
            ) from exc
        if stream.tell() != len(data):
            raise CodecError(
                f"{len(data) - stream.tell()} bytes left after the Avro datum",
                position=f"byte {stream.tell()}",
            )
        return value

    # -- encode --------------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        if self.options.container:
            self.write_records(value if isinstance(value, list) else [value], out)
        else:
            import fastavro

            self._validate(value)
            fastavro.schemaless_writer(out, self._schema, value)
        return out.getvalue()

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        import fastavro

        if self._schema is None:
            raise CodecError("cannot write Avro without a schema (set the schema option)")
        try:
            fastavro.writer(
                out, self._schema, self._checked(records), codec=self.options.compression
            )
        except SpliceError:
            raise
        except Exception as exc:
            raise CodecError(f"cannot write Avro: {_reason(exc)}") from exc

    def _checked(self, records: Iterable[Any]) -> Iterator[Any]:
        for record in records:
            self._validate(record)
            yield record

    def _validate(self, value: Any) -> None:
        from fastavro.validation import ValidationError, validate

        try:
            validate(value, self._schema, raise_errors=True, strict=True)
        except ValidationError as exc:
            raise CodecError(_mismatch(exc.errors)) from exc
        extra = _unknown_field(value, self._schema, "")
        if extra is not None:
            raise CodecError(f"field '{extra}' is not in the Avro schema (it would be dropped)")


def _mismatch(errors: Any) -> str:
    parts = []
    for error in list(errors)[:5]:
        field = getattr(error, "field", None) or "(root)"
        datum = getattr(error, "datum", None)
        expected = orjson.dumps(getattr(error, "schema", None), default=str).decode()
        parts.append(f"field '{field}': {datum!r} does not match {expected}")
    return "value does not match the Avro schema: " + "; ".join(parts)


def _unknown_field(value: Any, schema: Any, path: str) -> str | None:
    """The path of the first key that ``schema`` has no field for, or None."""
    if isinstance(schema, list):
        branches = [b for b in schema if isinstance(b, dict) and b.get("type") == "record"]
        found = (
            [_unknown_field(value, b, path) for b in branches] if isinstance(value, dict) else []
        )
        return None if not found or None in found else found[0]
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in fields:
                return where
            found_in = _unknown_field(item, fields[key], where)
            if found_in is not None:
                return found_in
    elif kind == "array" and isinstance(value, list):
        return next(
            (
                p
                for i, v in enumerate(value)
                if (p := _unknown_field(v, schema["items"], f"{path}[{i}]"))
            ),
            None,
        )
    elif kind == "map" and isinstance(value, dict):
        return next(
            (
                p
                for k, v in value.items()
                if (p := _unknown_field(v, schema["values"], f"{path}.{k}"))
            ),
            None,
        )
    return None


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _at(stream: BinaryIO) -> str | None:
    try:
        return f"byte {stream.tell()}"
    except (OSError, ValueError):
        return None


def _load_schema(raw: str | dict[str, Any], context: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    if raw.endswith((".avsc", ".json")) or "/" in raw:
        path = context.resolve_path(raw) if context is not None else Path(raw)
        try:
            return orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise CodecOptionError(f"avro option 'schema': cannot read {path}: {exc}") from exc
    return orjson.loads(_from_registry(raw, context))


def _from_registry(reference: str, context: Any) -> str:
    """The text of ``subject@version`` from the project's store, read in a worker thread."""
    from splice.schemas import SchemaRegistry
    from splice.store import Store

    project_dir = context.project_dir if context is not None else Path.cwd()
    url = context.settings.store if context is not None else "sqlite:///.splice/state.db"

    async def read() -> tuple[str, str]:
        store = await Store.open(url, project_dir=project_dir)
        try:
            found = await SchemaRegistry(store.schemas).resolve(reference)
        finally:
            await store.close()
        return found.text, found.schema_type

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        text, schema_type = pool.submit(asyncio.run, read()).result()
    if schema_type != "avro":
        raise CodecOptionError(f"avro option 'schema': {reference} is {schema_type}, not avro")
    return text
