"""What a flow test file (``tests/*.yaml``) may say, as pydantic models.

::

    flow: orders-to-erp
    cases:
      - name: a valid order becomes an XML sales order
        input: {body: {orderId: A-1}, headers: {source: crm}}
        expect:
          sinks:
            outbox:
              - xml: '<SalesOrder id="A-1">...</SalesOrder>'
                where: 'SalesOrder.Total = "21"'
            accepted: 1
          dead_letters: []
          routed: [outbox, accepted]
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = ["Case", "DeadLetterExpect", "Expect", "InputSpec", "MessageExpect", "TestFileModel"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InputSpec(_Strict):
    """One message handed to the flow instead of its source's."""

    body: Any = Field(
        None,
        description="A mapping or list is sent as JSON, a string as UTF-8 text.",
    )
    body_file: str | None = Field(
        None, description="A file (relative to the project) sent as bytes; type from its suffix."
    )
    content_type: str | None = Field(None, description="Overrides the content type.")
    headers: dict[str, str] = Field(default_factory=dict, description="Message headers.")

    @model_validator(mode="after")
    def _one_body(self) -> InputSpec:
        if ("body" in self.model_fields_set) == (self.body_file is not None):
            raise ValueError("give exactly one of 'body' and 'body_file'")
        return self


class MessageExpect(_Strict):
    """Checks on one message a sink received; every check given must hold."""

    text: str | None = Field(None, description="The body, exactly, as UTF-8 text.")
    xml: str | None = Field(None, description="The body as XML (canonicalised before comparing).")
    json_: Any = Field(None, alias="json", description="The decoded body, exactly.")
    where: str | None = Field(None, description="A JSONata predicate on the decoded body.")
    schema_: str | None = Field(
        None, alias="schema", description="A JSON Schema file the decoded body must satisfy."
    )
    headers: dict[str, str] | None = Field(None, description="Headers that must be present.")
    content_type: str | None = Field(None, description="The content type, exactly.")

    @model_validator(mode="after")
    def _some_check(self) -> MessageExpect:
        if not self.model_fields_set:
            raise ValueError("give at least one check: text, xml, json, where, schema, headers")
        return self


class DeadLetterExpect(_Strict):
    """One failed input: where it failed and why."""

    step: str | None = Field(None, description="Component path, e.g. steps[1].validate.")
    code: str | None = Field(None, description="Error code, e.g. contract, codec, mapping.")
    reason_contains: str | None = Field(None, description="Text the reason must contain.")


def _count_or_list(value: Any) -> str:
    return "count" if isinstance(value, int) and not isinstance(value, bool) else "messages"


SinkExpect = Annotated[
    Annotated[int, Tag("count"), Field(ge=0)] | Annotated[list[MessageExpect], Tag("messages")],
    Discriminator(_count_or_list),
]
DeadLettersExpect = Annotated[
    Annotated[int, Tag("count"), Field(ge=0)] | Annotated[list[DeadLetterExpect], Tag("messages")],
    Discriminator(_count_or_list),
]


class Expect(_Strict):
    """What running a case's inputs must give. Unmentioned sinks are not checked."""

    sinks: dict[str, SinkExpect] = Field(
        default_factory=dict, description="Per sink: a message count or checks per message."
    )
    dead_letters: DeadLettersExpect = Field(
        0, description="Failed inputs, a count or one entry each (default: none may fail)."
    )
    routed: list[str] | None = Field(None, description="Exactly the sinks that got messages.")


class Case(_Strict):
    """One test case: inputs and what must come out."""

    name: str = Field(min_length=1, description="What the case shows, in a sentence.")
    input: InputSpec | None = Field(None, description="One input message.")
    inputs: list[InputSpec] | None = Field(None, description="Several input messages, in order.")
    expect: Expect = Field(default_factory=Expect, description="What must come out.")

    @model_validator(mode="after")
    def _one_input_form(self) -> Case:
        if (self.input is None) == (self.inputs is None):
            raise ValueError("give exactly one of 'input' and 'inputs'")
        return self

    @property
    def all_inputs(self) -> list[InputSpec]:
        return [self.input] if self.input is not None else list(self.inputs or [])


class TestFileModel(_Strict):
    """A test file: one flow, its cases."""

    __test__ = False
    flow: str = Field(description="Name of the flow under test.")
    cases: list[Case] = Field(min_length=1, description="The cases, run in order.")
