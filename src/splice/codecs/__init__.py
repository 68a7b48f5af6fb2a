"""Codecs: bytes in a wire format to plain Python data, and back.

``get_codec("csv", {"delimiter": ";"})`` builds a codec by its registered name, validating
its options; ``codec_for_content_type("application/xml")`` picks one from a content type.
Each codec module declares a ``SPEC`` (its options model, summary and example), so the same
declaration validates flow files, the ``splice convert`` command line and the docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from splice.codecs.base import Codec
from splice.components import registry
from splice.errors import ConfigError, SpliceError

__all__ = ["Codec", "CodecOptionError", "codec_for_content_type", "get_codec", "option_errors"]

_BY_CONTENT_TYPE = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/plain": "text",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
}


class CodecOptionError(ConfigError):
    """A codec option is unknown or has a wrong value (outside any flow file)."""

    code = "codec-option"

    def __init__(self, message: str) -> None:
        self.problems = []
        SpliceError.__init__(self, message)


def option_errors(codec: str, error: ValidationError) -> list[str]:
    """One readable line per problem: ``csv option 'delimiter': ...``."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "options"
        reason = problem["msg"]
        if problem["type"] == "extra_forbidden":
            reason = "unknown option" + registry.suggest(
                str(problem["loc"][-1]), sorted(registry.get("codec", codec).config.model_fields)
            )
        lines.append(f"{codec} option '{where}': {reason}")
    return lines


def get_codec(
    name: str, options: Mapping[str, Any] | None = None, *, base_dir: Path | None = None
) -> Codec:
    """Build a codec by name; UnknownComponent or CodecOptionError when that is not possible.

    ``base_dir`` is where relative paths in options (a fixed-width layout) are found.
    """
    spec = registry.get("codec", name)
    try:
        config = spec.config.model_validate(dict(options or {}))
    except ValidationError as error:
        raise CodecOptionError("; ".join(option_errors(name, error))) from error
    context = None
    if base_dir is not None:
        from splice.components.context import Context

        context = Context(project_dir=base_dir, flow="")
    codec: Codec = spec.build(config, context)
    return codec


def codec_for_content_type(content_type: str | None) -> Codec | None:
    """The codec for a content type (parameters such as charset ignored), or None."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    name = _BY_CONTENT_TYPE.get(media)
    if name is None and media.endswith("+json"):
        name = "json"
    elif name is None and media.endswith("+xml"):
        name = "xml"
    return get_codec(name) if name is not None else None
