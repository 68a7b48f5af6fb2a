"""``route``: the content-based router. The first rule whose ``when`` holds chooses the sinks.

Rules are tried in order; ``mode: all`` sends to the sinks of every matching rule instead.
The decision sets :attr:`Message.targets` (the pipeline delivers to those sinks only) and
the header ``splice.route`` (the sink names, comma-separated). A message that matches no
rule, in a router without ``otherwise``, fails with the code ``unrouted``: it is
dead-lettered, never dropped. Sink names are checked when the flow is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError
from splice.mapping import Mapping, compile_mapping
from splice.message import Message
from splice.steps.filter import decoded, holds

__all__ = ["SPEC", "ListSpec", "RouteConfig", "RouteRule", "RouteStep", "SinkNames", "known_sinks"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


SinkNames = Annotated[list[str], BeforeValidator(_as_list)]
"""One sink name or a list of them."""


def known_sinks(names: list[str], info: ValidationInfo) -> list[str]:
    """``names`` when every one is a sink of the flow being loaded (else a config error)."""
    sinks = (info.context or {}).get("sink_names")
    if sinks is not None:
        unknown = [name for name in names if name not in sinks]
        if unknown:
            valid = ", ".join(sinks) or "the flow has no sinks"
            raise ValueError(f"unknown sink '{unknown[0]}' (sinks of this flow: {valid})")
    return names


class RouteRule(ComponentConfig):
    when: str | None = Field(None, description="JSONata predicate on the decoded body.")
    to: SinkNames | None = Field(None, description="Sink name(s) for messages matching `when`.")
    otherwise: SinkNames | None = Field(
        None, description="Sink name(s) for messages matching no rule (the last rule only)."
    )

    @field_validator("to", "otherwise")
    @classmethod
    def _sinks_exist(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("name at least one sink")
        return None if value is None else known_sinks(value, info)

    @model_validator(mode="after")
    def _one_kind(self) -> RouteRule:
        if self.otherwise is not None and (self.when is not None or self.to is not None):
            raise ValueError("'otherwise' stands alone in its rule")
        if self.otherwise is None and (self.when is None or self.to is None):
            raise ValueError("a rule is {when: <predicate>, to: <sink>} or {otherwise: <sink>}")
        return self


class RouteConfig(ComponentConfig):
    rules: list[RouteRule] = Field(min_length=1, description="The rules, tried in order.")
    mode: Literal["first", "all"] = Field(
        "first", description="`first`: the first matching rule wins; `all`: every match."
    )

    @model_validator(mode="after")
    def _otherwise_last(self) -> RouteConfig:
        fallbacks = [i for i, rule in enumerate(self.rules) if rule.otherwise is not None]
        if fallbacks and fallbacks != [len(self.rules) - 1]:
            raise ValueError("one 'otherwise' rule at most, and it comes last")
        return self


@dataclass(frozen=True)
class ListSpec(ComponentSpec):
    """A spec whose shorthand is a list: errors are placed on the list items themselves."""

    def parse(self, raw: Any, *, context: dict[str, Any] | None = None) -> BaseModel:
        try:
            return super().parse(raw, context=context)
        except ValidationError as error:
            if not isinstance(raw, list) or self.shorthand is None:
                raise
            raise _unwrap(error, self.shorthand) from None


def _unwrap(error: ValidationError, field: str) -> ValidationError:
    details: list[InitErrorDetails] = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        custom = {"type": detail["type"], "msg": detail["msg"], "ctx": detail.get("ctx")}
        details.append(
            InitErrorDetails(
                type=_custom(custom),
                loc=loc[1:] if loc[:1] == (field,) else loc,
                input=detail["input"],
            )
        )
    return ValidationError.from_exception_data(error.title, details)


def _custom(detail: dict[str, Any]) -> Any:
    from pydantic_core import PydanticCustomError

    message = str(detail["msg"]).replace("{", "{{").replace("}", "}}")
    return PydanticCustomError(str(detail["type"]), message)


SPEC = ListSpec(
    kind="step",
    name="route",
    summary="Content-based router: the first rule that matches chooses the sink(s).",
    config=RouteConfig,
    example=("route:\n  - when: total > 10000\n    to: approvals\n  - otherwise: erp"),
    factory="splice.steps.route:RouteStep",
    shorthand="rules",
    description=(
        "Write the rules as a list, or `{mode: all, rules: [...]}` to send to every match. "
        "Unknown sink names are load errors. A message matching nothing, without "
        "`otherwise`, is dead-lettered with the code `unrouted`."
    ),
)


class RouteStep(Step):
    def __init__(self, config: RouteConfig, context: Context) -> None:
        self._rules: list[tuple[Mapping, tuple[str, ...]]] = [
            (compile_mapping(rule.when), tuple(rule.to))
            for rule in config.rules
            if rule.when is not None and rule.to is not None
        ]
        last = config.rules[-1].otherwise
        self._otherwise = tuple(last) if last is not None else None
        self._first = config.mode == "first"

    async def process(self, message: Message) -> list[Message]:
        targets = self._choose(decoded(message, "route"), message.headers, message.plain)
        if not targets:
            raise MessageError(
                "the message matches no route and there is no 'otherwise'", code="unrouted"
            )
        message.targets = targets
        message.headers["splice.route"] = ",".join(targets)
        return [message]

    def _choose(self, data: Any, headers: dict[str, str], plain: bool) -> tuple[str, ...]:
        chosen: list[str] = []
        for predicate, sinks in self._rules:
            if holds(predicate.evaluate(data, headers=headers, plain=plain)):
                chosen.extend(sink for sink in sinks if sink not in chosen)
                if self._first:
                    break
        if not chosen and self._otherwise is not None:
            return self._otherwise
        return tuple(chosen)
