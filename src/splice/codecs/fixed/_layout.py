"""The layout file of the ``fixed`` codec: record types, their discriminator and fields.

A layout is YAML (see ``docs/guides/fixed-width.md``)::

    encoding: cp037
    record_separator: none      # "\\n" (default), "\\r\\n" or none (fixed record length)
    discriminator: {start: 1, length: 2}
    records:
      - type: header
        when: "HD"
        fields:
          - {name: kind, start: 1, length: 2}
          - {name: amount, start: 3, length: 4, type: packed, scale: 2}
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from splice.errors import ConfigError

__all__ = ["FieldSpec", "Layout", "RecordSpec", "load_layout"]

FieldType = Literal["text", "int", "zoned", "packed", "date", "binary"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Model):
    name: str
    start: int | None = Field(None, ge=1, description="1-based position of the first byte.")
    offset: int | None = Field(None, ge=0, description="0-based position (instead of start).")
    length: int = Field(ge=1, description="Width in bytes.")
    type: FieldType = "text"
    scale: int = Field(0, ge=0, description="Implied decimals (int, zoned, packed, binary).")
    trim: Literal["right", "left", "both", "none"] = "right"
    align: Literal["left", "right"] | None = None
    pad: str | None = Field(None, min_length=1, max_length=1)
    format: str = Field("%Y%m%d", description="strftime format of a date field.")
    signed: bool = True

    @model_validator(mode="after")
    def _one_position(self) -> FieldSpec:
        if (self.start is None) == (self.offset is None):
            raise ValueError(f"field {self.name!r}: give exactly one of start and offset")
        return self

    @property
    def position(self) -> int:
        return self.offset if self.offset is not None else (self.start or 1) - 1

    @property
    def end(self) -> int:
        return self.position + self.length


class Discriminator(_Model):
    start: int = Field(ge=1)
    length: int = Field(ge=1)


class RecordSpec(_Model):
    type: str
    when: str | None = Field(None, description="Discriminator value selecting this type.")
    length: int | None = Field(None, ge=1, description="Record length in bytes.")
    fields: list[FieldSpec]

    @property
    def size(self) -> int:
        return self.length or max(f.end for f in self.fields)


class Layout(_Model):
    encoding: str = "ascii"
    record_separator: str | None = "\n"
    discriminator: Discriminator | None = None
    records: list[RecordSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Layout:
        codecs.lookup(self.encoding)
        if len(self.records) > 1 and self.discriminator is None:
            raise ValueError("several record types need a discriminator")
        if self.discriminator is not None and any(r.when is None for r in self.records):
            raise ValueError("with a discriminator, every record type needs 'when'")
        return self

    @property
    def separator(self) -> bytes:
        if self.record_separator in (None, "", "none"):
            return b""
        return (self.record_separator or "").encode(self.encoding)


def load_layout(path: Path) -> Layout:
    """Read and validate a layout file; problems are ConfigErrors naming the file."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        return Layout.model_validate(data)
    except OSError as exc:
        raise ConfigError.at(str(path), 0, 0, f"cannot read the layout: {exc.strerror}") from exc
    except YAMLError as exc:
        raise ConfigError.at(str(path), 0, 0, f"not valid YAML: {exc}") from exc
    except (ValidationError, LookupError) as exc:
        raise ConfigError.at(str(path), 0, 0, f"not a valid layout: {exc}") from exc
