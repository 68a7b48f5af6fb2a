"""What a loaded project is made of: validated, immutable specs with their places."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from splice.components.spec import Kind
from splice.runtime.policies import OnError
from splice.settings import ProjectSettings

__all__ = [
    "FLOW_KEYS",
    "ON_ERROR_KEYS",
    "ComponentRef",
    "ErrorPolicy",
    "FlowHeader",
    "FlowSpec",
    "Project",
    "SystemSpec",
]

FLOW_KEYS = (
    "integration",
    "description",
    "owner",
    "steward",
    "max_in_flight",
    "source",
    "steps",
    "sinks",
    "on_error",
)
ON_ERROR_KEYS = (
    "retry",
    "timeout",
    "circuit_breaker",
    "dead_letter",
    "classify",
    "quarantine_after",
)
"""Keys of an ``on_error:`` block (validated in full by :mod:`splice.runtime.policies`)."""


@dataclass(frozen=True)
class ErrorPolicy:
    """The ``on_error:`` block of a flow or a sink."""

    dead_letter: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    policy: OnError | None = field(default=None, compare=False)
    """The block validated as written (merged with the project defaults by the runtime)."""
    """The block as written (secrets resolved), for the runtime's full policy model."""


@dataclass(frozen=True)
class ComponentRef:
    """One source, step or sink of a flow: its validated config and where it is written."""

    kind: Kind
    name: str
    config: BaseModel
    path: str
    """``source.http``, ``steps[1].validate``, ``sinks.erp.http``."""
    file: Path
    line: int
    column: int
    on_error: ErrorPolicy | None = None
    """A sink's own ``on_error:`` (written next to its component key), else None."""


@dataclass(frozen=True)
class FlowSpec:
    """One flow file, validated."""

    name: str
    file: Path
    version: str
    """Short sha256 of the file's bytes: changes whenever the file does."""
    description: str
    owner: str | None
    steward: str | None
    source: ComponentRef
    steps: tuple[ComponentRef, ...]
    sinks: dict[str, ComponentRef]
    max_in_flight: int
    on_error: ErrorPolicy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FlowHeader(_Strict):
    """The plain keys of a flow file (the components are validated by their own specs)."""

    integration: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Flow name, unique in the project (default: the file name without .yaml).",
    )
    description: str = Field("", description="What the flow does, in a sentence.")
    owner: str | None = Field(None, description="Team that owns the integration.")
    steward: str | None = Field(None, description="Data steward (e-mail) of the integration.")
    max_in_flight: int | None = Field(
        None, ge=1, description="Messages in flight at once (default: runtime.max_in_flight)."
    )


class SystemSpec(_Strict):
    """One system of the catalog (``systems/*.yaml``)."""

    name: str = Field(description="System name, unique in the project.")
    owner: str | None = Field(None, description="Team that owns the system.")
    description: str = Field("", description="What the system is.")
    connection: dict[str, Any] = Field(
        default_factory=dict, description="How to reach it (secrets by reference)."
    )


@dataclass(frozen=True)
class Project:
    """A project folder, loaded and validated."""

    dir: Path
    settings: ProjectSettings
    flows: dict[str, FlowSpec]
    systems: dict[str, SystemSpec]
