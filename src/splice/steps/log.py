"""``log``: write one log line per message, with chosen fields and sensitive ones masked.

The line holds the message id, the correlation id, an optional ``message`` text and each
of ``fields`` (JSONata expressions). Fields listed in ``mask`` are replaced by ``***``
*before* anything is evaluated, so no expression can reveal them; the finished line also
goes through :func:`splice.secrets.mask`. The whole body is logged only with ``body: true``
(masked the same way). Logging never fails a message: an expression that fails is logged
as ``<error CODE>``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Literal

import orjson
from pydantic import Field

from splice import secrets
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MappingError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message

__all__ = ["SPEC", "LogConfig", "LogStep", "mask_fields"]

MASK = "***"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR


class LogConfig(ComponentConfig):
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    message: str = Field("", description="A fixed text that starts the line.")
    fields: dict[str, str] = Field(
        default_factory=dict, description="Name -> JSONata expression on the (masked) body."
    )
    mask: list[str] = Field(
        default_factory=list,
        description="Dotted field paths replaced by *** (through lists), e.g. `card.number`.",
    )
    body: bool = Field(False, description="Also log the whole (masked) body.")
    logger: str = Field("splice.flow", description="Name of the Python logger written to.")


SPEC = ComponentSpec(
    kind="step",
    name="log",
    summary="Log a line per message with chosen fields; sensitive fields are masked.",
    config=LogConfig,
    example=(
        "log:\n"
        "  message: order received\n"
        "  fields: {order: orderId, total: $sum(items.price)}\n"
        "  mask: [customer.iban]"
    ),
    factory="splice.steps.log:LogStep",
    shorthand="message",
    description=(
        "The message passes unchanged. Known secret values are masked in every line; "
        "`mask` hides fields of the body, which is never logged unless `body: true`."
    ),
)


class LogStep(Step):
    def __init__(self, config: LogConfig, context: Context) -> None:
        self._fields = [(name, compile_mapping(expr)) for name, expr in config.fields.items()]
        self._mask = [path.split(".") for path in config.mask]
        self._level = _LEVELS[config.level]
        self._text = config.message
        self._body = config.body
        self._log = logging.getLogger(config.logger)
        self._where = f"{context.flow} {context.component}".strip()

    async def process(self, message: Message) -> list[Message]:
        if self._log.isEnabledFor(self._level):
            self._log.log(self._level, "%s", secrets.mask(self._line(message)))
        return [message]

    def _line(self, message: Message) -> str:
        data = self._masked(message)
        parts = [f"[{self._where}]", self._text] if self._text else [f"[{self._where}]"]
        parts += [f"id={message.id}", f"correlation={message.correlation_id}"]
        parts += [f"{name}={self._field(mapping, data, message)}" for name, mapping in self._fields]
        if self._body:
            parts.append(f"body={_text(data) if data is not UNDEFINED else _size(message)}")
        return " ".join(parts)

    def _masked(self, message: Message) -> Any:
        if message.is_encoded:
            return UNDEFINED
        return mask_fields(copy.deepcopy(message.body), self._mask) if self._mask else message.body

    def _field(self, mapping: Any, data: Any, message: Message) -> str:
        try:
            value = mapping.evaluate(data, headers=message.headers)
        except MappingError as error:
            return f"<error {error.code}>"
        return "<undefined>" if value is UNDEFINED else _text(value)


def mask_fields(data: Any, paths: list[list[str]]) -> Any:
    """``data`` with the value at each dotted path replaced by ``***`` (in place)."""
    for path in paths:
        _mask_path(data, path)
    return data


def _mask_path(node: Any, path: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _mask_path(item, path)
    elif isinstance(node, dict) and path and path[0] in node:
        if len(path) == 1:
            node[path[0]] = MASK
        else:
            _mask_path(node[path[0]], path[1:])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


def _size(message: Message) -> str:
    return f"<{len(message.body_bytes())} bytes, not decoded>"
