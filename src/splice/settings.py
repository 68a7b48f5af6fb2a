"""Project-wide settings, read from ``splice.yaml``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from splice.runtime.policies import OnError
from splice.types import Duration

__all__ = ["HttpSettings", "ProjectSettings", "RuntimeSettings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Strict):
    """The one HTTP server that every HTTP source of the project shares."""

    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8080, ge=0, le=65535, description="Port to bind (0 picks a free one).")
    max_body_bytes: int = Field(1_048_576, ge=1, description="Requests with a larger body get 413.")
    reply_timeout: Duration = Field(
        30.0, gt=0, description="Seconds a synchronous reply waits for the flow."
    )


class RuntimeSettings(_Strict):
    max_in_flight: int = Field(64, ge=1, description="Default messages in flight per flow.")
    drain_timeout: Duration = Field(
        10.0, gt=0, description="Seconds shutdown waits for in-flight messages."
    )
    workers: int | Literal["auto"] = Field(
        1,
        description="Worker processes of `splice run` (`auto`: one per CPU); "
        "`--workers` overrides it.",
    )

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> Any:
        if value == "auto" or (type(value) is int and 1 <= value <= 256):
            return value
        raise ValueError(f"a number from 1 to 256 or 'auto', not {value!r}")


class ProjectSettings(_Strict):
    """The contents of ``splice.yaml``."""

    project: str = Field("splice", description="Project name.")
    description: str = ""
    http: HttpSettings = HttpSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    store: str = Field(
        "sqlite:///.splice/state.db",
        description="State store URL (SQLite in the project folder by default).",
    )
    on_error: OnError = Field(
        default_factory=OnError,
        description="Project-wide error policy; a flow's and a sink's `on_error` override it.",
    )
    lookups: dict[str, str] = Field(
        default_factory=dict,
        description="Lookup tables for `$lookup(table, key)`: name -> CSV or YAML file.",
    )
