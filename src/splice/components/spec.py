"""How a component declares itself, once.

A :class:`ComponentSpec` is the single declaration of a source, sink, step or codec: its
pydantic config model, a one-line summary, an example as it is written in a flow file, and
the name of the class that builds it. The same declaration validates flow files, generates
``docs/reference/*.md`` and feeds ``splice validate`` and the editor schema.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["ComponentConfig", "ComponentSpec", "Kind", "ScalesOut"]

Kind = Literal["source", "sink", "step", "codec"]


class ComponentConfig(BaseModel):
    """Base of every component config: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class ScalesOut:
    """A source that runs in every worker only when its config says so.

    ``when`` tells the reference docs the condition (``"with `queue` or `durable`"``);
    ``test`` decides it from the validated config.
    """

    when: str
    test: Callable[[Any], bool]


@dataclass(frozen=True)
class ComponentSpec:
    kind: Kind
    name: str
    summary: str
    config: type[BaseModel]
    example: str
    """YAML as a user writes it in a flow file (executed by the docs tests)."""
    factory: str
    """``"module:attribute"`` of the callable ``(config, context) -> component``."""
    shorthand: str | None = None
    """Config field that a scalar value fills: ``decode: json`` means ``{format: json}``."""
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    scales_out: bool | ScalesOut = False
    """Sources only: True when every worker of ``splice run --workers N`` may run it
    (competing consumers: HTTP, an AMQP queue, a NATS queue group); False (the default, the
    safe choice for a plugin) when it must run once, in worker 0 only (polling a folder, a
    table, a timer)."""

    def runs_in_every_worker(self, config: BaseModel) -> bool:
        """Whether a source with this ``config`` runs in every worker (see ``scales_out``)."""
        if isinstance(self.scales_out, ScalesOut):
            return bool(self.scales_out.test(config))
        return self.scales_out

    def parse(self, raw: Any, *, context: dict[str, Any] | None = None) -> BaseModel:
        """Validate raw YAML data into the config model (pydantic errors propagate).

        ``context`` reaches the model's validators as ``info.context``: the loader passes
        ``project_dir`` and ``sink_names`` so that references can be checked.
        """
        if raw is None:
            raw = {}
        elif not isinstance(raw, dict) and self.shorthand is not None:
            raw = {self.shorthand: raw}
        return self.config.model_validate(raw, context=context)

    def build(self, config: BaseModel, context: Any) -> Any:
        """Import the factory lazily and build the component."""
        module_name, _, attribute = self.factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        return factory(config, context)
