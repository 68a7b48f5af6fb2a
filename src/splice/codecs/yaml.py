"""The ``yaml`` codec: YAML 1.2 documents to plain data and back (safe, pure Python).

Only plain data is read: tags that would build Python objects are refused, as are
documents larger than ``max_bytes``. Aliases (``*name``) are refused unless
``max_aliases`` allows some, so an alias bomb ("billion laughs") cannot expand into
gigabytes when the data is used. Errors name the line and column.
"""

from __future__ import annotations

import io
from typing import Any

from pydantic import Field
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.representer import RepresenterError

from splice.codecs.base import DEFAULT_MAX_BYTES, Codec, check_size
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "YamlCodec", "YamlOptions"]


class YamlOptions(ComponentConfig):
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES, ge=1, description="Refuse documents larger than this many bytes."
    )
    max_aliases: int = Field(
        0, ge=0, description="Most aliases (`*name`) a document may use; 0 refuses them."
    )


SPEC = ComponentSpec(
    kind="codec",
    name="yaml",
    summary="YAML documents (safe: plain data only, no Python tags).",
    config=YamlOptions,
    example="decode: yaml",
    factory="splice.codecs.yaml:YamlCodec",
)


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    return yaml


class YamlCodec(Codec):
    name = "yaml"
    content_type = "application/yaml"

    def __init__(self, options: YamlOptions | None = None, context: Any = None) -> None:
        self.options = options or YamlOptions()

    def decode(self, data: bytes) -> Any:
        check_size(data, self.options.max_bytes, "YAML")
        try:
            self._check_aliases(bytes(data))
            return _yaml().load(bytes(data))
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            position = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            raise CodecError(
                f"not valid YAML: {error.problem or error}", position=position
            ) from error
        except (YAMLError, UnicodeDecodeError, ValueError) as error:
            raise CodecError(f"not valid YAML: {error}") from error

    def _check_aliases(self, data: bytes) -> None:
        if b"*" not in data:
            return
        aliases = 0
        for event in _yaml().parse(data):
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > self.options.max_aliases:
                    mark = event.start_mark
                    raise CodecError(
                        f"YAML alias '*{event.anchor}' refused (max_aliases is "
                        f"{self.options.max_aliases})",
                        position=f"line {mark.line + 1}, column {mark.column + 1}",
                    )

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        try:
            _yaml().dump(value, out)
        except RepresenterError as error:
            raise CodecError(f"cannot write YAML: {error}") from error
        return out.getvalue()
