"""``split``: the splitter. One message in, one message per item or record out.

``path:`` (JSONata) selects an array in the decoded body; ``format:`` splits the raw bytes
record by record with that codec's ``iter_decode`` (CSV rows, JSON lines, X12 or EDIFACT
transaction sets; for XML, the elements named ``element``). Each child is
``message.derive(item)``: a new id, the parent's correlation id and headers, plus
``split.index`` (from 0), ``split.total`` and ``split.parent`` (the parent's id). An empty
array gives no message (counted in :meth:`SplitStep.stats`), and the parent is acked.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from pydantic import Field, ValidationInfo, model_validator

from splice.codecs import Codec
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message
from splice.steps.decode import build_codec, check_codec
from splice.steps.filter import decoded

__all__ = ["SPEC", "SplitConfig", "SplitStep"]

log = logging.getLogger("splice.steps.split")


class SplitConfig(ComponentConfig):
    path: str | None = Field(None, description="JSONata selecting the array to split.")
    format: str | None = Field(
        None, description="Split raw bytes by record: csv, jsonl, xml, x12, edifact, fixed."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options of that codec (see the codecs reference)."
    )
    element: str | None = Field(None, description="XML only: the element name of each record.")

    @model_validator(mode="after")
    def _one_way(self, info: ValidationInfo) -> SplitConfig:
        if (self.path is None) == (self.format is None):
            raise ValueError("give exactly one of 'path' and 'format'")
        if self.format is not None:
            check_codec(self.format, self.options, info)
        if (self.format == "xml") != (self.element is not None):
            raise ValueError("'element' names the records of format xml (and only of xml)")
        return self


SPEC = ComponentSpec(
    kind="step",
    name="split",
    summary="Splitter: one message per array item (path) or per record of the raw bytes.",
    config=SplitConfig,
    example="split: items",
    factory="splice.steps.split:SplitStep",
    shorthand="path",
    description=(
        "Children keep the correlation id and carry `split.index`, `split.total` and "
        "`split.parent`. An empty array produces no message."
    ),
)


class SplitStep(Step):
    def __init__(self, config: SplitConfig, context: Context) -> None:
        self._path = compile_mapping(config.path) if config.path is not None else None
        self._codec: Codec | None = None
        if config.format is not None:
            self._codec = build_codec(config.format, config.options, context)
        self._element = config.element
        self.split = 0
        self.children = 0
        self.empty = 0

    async def process(self, message: Message) -> list[Message]:
        items = self._records(message) if self._codec is not None else self._items(message)
        self.split += 1
        self.children += len(items)
        if not items:
            self.empty += 1
            log.debug("split: message %s holds no item", message.id)
        content_type = self._codec.content_type if self._codec is not None else None
        return [
            _child(message, item, index, len(items), content_type)
            for index, item in enumerate(items)
        ]

    def stats(self) -> dict[str, int]:
        """Messages split, children produced, and messages that held no item."""
        return {"split": self.split, "children": self.children, "empty": self.empty}

    def _items(self, message: Message) -> list[Any]:
        assert self._path is not None
        value = self._path.evaluate(
            decoded(message, "split"), headers=message.headers, plain=message.plain
        )
        if value is UNDEFINED or value is None:
            return []
        return value if isinstance(value, list) else [value]

    def _records(self, message: Message) -> list[Any]:
        assert self._codec is not None
        if not message.is_encoded:
            raise MessageError("split by format needs the raw bytes: split before 'decode'")
        if self._element is not None:
            return self._xml_records(message.body_bytes())
        return list(self._codec.iter_decode(io.BytesIO(message.body_bytes())))

    def _xml_records(self, data: bytes) -> list[Any]:
        from splice.codecs.xml import XmlCodec
        from splice.codecs.xmljson import element_to_value

        assert isinstance(self._codec, XmlCodec)
        root = self._codec.parse(data)
        depth = self._codec.options.max_depth
        return [
            {self._element: element_to_value(node, depth)}
            for node in root.iter()
            if isinstance(node.tag, str) and node.tag.rpartition("}")[2] == self._element
        ]


def _child(parent: Message, item: Any, index: int, total: int, content_type: str | None) -> Message:
    child = parent.derive(item, content_type=content_type)
    child.headers |= {"split.index": str(index), "split.total": str(total)}
    child.headers["split.parent"] = parent.id
    return child
